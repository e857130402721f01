// Exact mode ("Verify with Python"): how long the user's PyTorch takes to verify a model through the bridge, with the
// defaults a user gets (a 1×3×224×224 input, the 4 GiB memory limit, Debian's PyTorch 1.13, which builds on the CPU).
// The first call starts the interpreter and imports torch; later calls reuse the warm interpreter, as the editor does.
// Run with `npm run bench:exact` (node --import tsx, so that the TypeScript sources are measured as they are).
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { median, ms, replaceBenchSection, root } from './benchShared.mjs';

const { PythonBridge } = await import(join(root, 'src/runtime/pythonBridge.ts'));

const python = process.env.LAYERSCOPE_TORCH_PYTHON ?? '/usr/bin/python3';
const resnet = '/usr/lib/python3/dist-packages/torchvision/models/resnet.py';
const lecture = join(root, 'samples/python/lectureModels.py');
const WARM_RUNS = 5;

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const bridge = new PythonBridge({ python });
const rows = [];
try {
  const cases = [
    { name: 'ResNet-50 (torchvision `resnet50()`), input 1×3×224×224', request: { file: resnet, target: { kind: 'expression', expression: 'resnet50()' }, inputShape: [1, 3, 224, 224] } },
    { name: 'DeeperBNConvNet (samples/python/lectureModels.py), input 1×3×32×32', request: { file: lecture, target: { kind: 'variable', name: 'model' }, inputShape: [1, 3, 32, 32] } },
  ];
  const cold = await timed(() => bridge.inspect(cases[0].request));
  rows.push(`| ${cases[0].name}, first call (starts Python, imports torch) | ${ms(cold.ms)} | ${cold.value.params.toLocaleString('en-US')} | ${cold.value.device} |`);
  for (const c of cases) {
    const times = [];
    let last;
    for (let i = 0; i < WARM_RUNS; i++) {
      const t = await timed(() => bridge.inspect(c.request));
      times.push(t.ms);
      last = t.value;
    }
    rows.push(`| ${c.name}, warm interpreter (median of ${WARM_RUNS}) | ${ms(median(times))} | ${last.params.toLocaleString('en-US')} | ${last.device} |`);
  }
} finally {
  bridge.dispose();
}

const versions = await (async () => {
  const b = new PythonBridge({ python });
  try {
    const i = await b.interpreter();
    return `Python ${i.python}, PyTorch ${i.torch}`;
  } finally {
    b.dispose();
  }
})();

const date = new Date().toISOString().slice(0, 10);
const section = `## Exact mode: Verify with Python (\`npm run bench:exact\`, ${date})

The time from the request to PyTorch's report (parameters, float buffers, and every submodule's output shape through
forward hooks), as "Verify with Python" and \`summary --python\` pay it. ${versions}; ${cpus().length} cores (load
${loadavg()[0].toFixed(1)} at the start). PyTorch below 2.0 has no meta device, so the model is built and run on the CPU;
with PyTorch 2 it is built on the meta device and costs neither memory nor compute.

| Model | Time | Parameters | Device |
|---|---:|---:|---|
${rows.join('\n')}

The issue's target: a ResNet-50 class verified in under 3 s after the first (cached-interpreter) call.`;

const file = replaceBenchSection('exact', section);
console.log(section);
console.log(`\nwrote ${file}`);
