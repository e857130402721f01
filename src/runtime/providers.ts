/**
 * Execution-provider choice, kept free of onnxruntime imports so that the CLI, the extension host and tests can reason
 * about it without loading the native addon.
 *
 * onnxruntime throws at session creation when a compiled-in provider cannot start (no CUDA libraries, no Vulkan
 * adapter), even when 'cpu' comes next in the list it was given. So `auto` is not one session with a provider list: the
 * worker tries one provider per attempt, in this order, and reports the one that actually ran.
 */

export const EXECUTION_PROVIDERS = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export type ExecutionProviderChoice = (typeof EXECUTION_PROVIDERS)[number];
export type ConcreteProvider = Exclude<ExecutionProviderChoice, 'auto'>;

export function isExecutionProviderChoice(value: string): value is ExecutionProviderChoice {
  return (EXECUTION_PROVIDERS as readonly string[]).includes(value);
}

/** The order `auto` tries providers in, fastest first, always ending with the CPU. */
export function autoProviderOrder(platform: NodeJS.Platform | string): ConcreteProvider[] {
  switch (platform) {
    case 'win32':
      return ['dml', 'webgpu', 'cpu'];
    case 'darwin':
      return ['coreml', 'webgpu', 'cpu'];
    default:
      return ['cuda', 'webgpu', 'cpu'];
  }
}

/** The providers to try for a choice: the platform order for auto, the one named otherwise. */
export function providerAttempts(choice: ExecutionProviderChoice, platform: NodeJS.Platform | string): ConcreteProvider[] {
  return choice === 'auto' ? autoProviderOrder(platform) : [choice];
}

/** The provider entry for onnxruntime's session options. Only providers that take a device index get one. */
export function providerConfig(provider: ConcreteProvider, deviceId = 0): { name: string; deviceId?: number } {
  if (provider === 'cuda' || provider === 'dml') return { name: provider, deviceId };
  return { name: provider };
}

/** Every provider except the CPU runs some nodes elsewhere, so only those are profiled for CPU fallback. */
export function isAcceleratorProvider(provider: string): boolean {
  return provider !== 'cpu';
}

/** A readable line for a provider that could not start, with the most likely fix. */
export function providerFailureHint(provider: ConcreteProvider): string {
  switch (provider) {
    case 'cuda':
      return CUDA_INSTALL_ADVICE;
    case 'webgpu':
      return 'the WebGPU provider needs a GPU driver with Vulkan (Linux), D3D12 (Windows) or Metal (macOS)';
    case 'dml':
      return 'DirectML is only available on Windows';
    case 'coreml':
      return 'Core ML is only available on macOS';
    default:
      return 'the CPU provider should always start; the model may be invalid';
  }
}

/**
 * How to get the CUDA provider, as README's "Execution providers and GPUs" says it (a test holds the two together). The
 * packaged extension ships onnxruntime-node's CPU build, whose install script never fetched the CUDA libraries.
 */
export const CUDA_INSTALL_ADVICE =
  'the CUDA provider needs onnxruntime-node\'s CUDA libraries, which the packaged extension does not include: in a ' +
  'source checkout of Layerscope, run `npm install onnxruntime-node --onnxruntime-node-install=cuda12`, with a CUDA 12 ' +
  'or 13 runtime and cuDNN 9 on the library path (README: Execution providers and GPUs)';

/** One entry of onnxruntime-node's `listSupportedBackends()`, and whether an unbundled one's library is installed. */
export interface BackendSupport {
  name: string;
  bundled: boolean;
  installed: boolean;
}

/** What selecting a provider means on this machine: fine, worth a warning, or impossible. */
export type ProviderAvailability = { kind: 'available' } | { kind: 'notInstalled' | 'notInBuild'; message: string };

/**
 * Judges a provider choice against the backends this machine's onnxruntime build lists. `auto` and the CPU are always
 * available; a provider the build does not list cannot start at all; one it lists as unbundled needs its libraries.
 */
export function providerAvailability(choice: ExecutionProviderChoice, backends: readonly BackendSupport[], platform: NodeJS.Platform | string): ProviderAvailability {
  if (choice === 'auto' || choice === 'cpu') return { kind: 'available' };
  const entry = backends.find((b) => b.name === choice);
  const listed = backends.map((b) => b.name).join(', ');
  if (!entry) {
    return { kind: 'notInBuild', message: `this machine's onnxruntime build (${platform}) has no ${choice} execution provider (it has ${listed}); ${providerFailureHint(choice)}` };
  }
  if (!entry.installed) {
    return { kind: 'notInstalled', message: `the ${choice} execution provider is not installed here: ${providerFailureHint(choice)}` };
  }
  return { kind: 'available' };
}
