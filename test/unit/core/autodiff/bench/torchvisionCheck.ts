import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGradCommand } from '../../../../../src/cli/gradCommand';
import type { GradReport } from '../../../../../src/core/reports';

/** Compares `layerscope grad` with the PyTorch figures torchvisionOracle.py recorded; prints relative errors per model. */
async function main() {
  const models = JSON.parse(readFileSync(join(process.argv[2], 'tv.json'), 'utf8')) as { name: string; onnx: string; input: string; loss: number; inputGradNorm: number; params: Record<string, number> }[];
  for (const m of models) {
    let out = '', err = '';
    const code = await runGradCommand([m.onnx, '--input', m.input, '--loss', 'cross-entropy', '--target', '3', '--check', '0', '--json'], { stdout: (s) => (out += s), stderr: (s) => (err += s) });
    if (code !== 0) { console.log(m.name, 'EXIT', code, err.trim()); continue; }
    const r = JSON.parse(out) as GradReport;
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    let worst = 0, worstName = '', missing = 0;
    const scale = Math.max(...Object.values(m.params));
    for (const [n, v] of Object.entries(m.params)) {
      const p = r.params.find((q) => q.name === n);
      if (!p) { missing++; continue; }
      const e = v < 1e-6 * scale ? Math.abs(p.l2 - v) / scale : rel(p.l2, v);
      if (e > worst) { worst = e; worstName = n; }
    }
    console.log(m.name, `loss ${rel(r.loss, m.loss).toExponential(1)} input ${rel(r.input.l2, m.inputGradNorm).toExponential(1)} worstParam ${worst.toExponential(1)} ${worstName} missing ${missing}/${Object.keys(m.params).length}`);
  }
}
void main();
