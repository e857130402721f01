import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { serveJobs } from './jobWorker';
import { ort } from './ortSession';
import type { BackendSupport, BackendsJob } from './providerSupport';

/**
 * A short-lived child process that asks this machine's onnxruntime-node which execution providers its build has
 * (`listSupportedBackends()`), so that the editor can refuse or warn when one is selected, without loading the native
 * addon into the extension host. A provider that onnxruntime does not bundle (CUDA, TensorRT) counts as installed only
 * when its provider library lies beside the binding, where onnxruntime-node's install script puts it.
 */

function bindingFolder(): string | undefined {
  try {
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    const bin = join(root, 'bin');
    for (const napi of existsSync(bin) ? readdirSync(bin) : []) {
      const folder = join(bin, napi, process.platform, process.arch);
      if (existsSync(folder)) return folder;
    }
  } catch {
    // Without a binding folder nothing unbundled counts as installed.
  }
  return undefined;
}

async function listBackends(): Promise<BackendSupport[]> {
  const folder = bindingFolder();
  const files = folder ? readdirSync(folder) : [];
  return ort()
    .listSupportedBackends()
    .map((b) => ({ name: b.name, bundled: b.bundled, installed: b.bundled || files.some((f) => f.includes(`onnxruntime_providers_${b.name}`)) }));
}

serveJobs<BackendsJob, BackendSupport[]>('backends', () => listBackends());
