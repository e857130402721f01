// Writes the initialisation-lab models (the lectures' dims = [4096] * 7, batch 16) to a folder, one .onnx per case,
// for opening in the inspector and running "Layerscope: Run Activation Probe" on each. They are generated, not
// committed, because at full width they are 400 MB each.
//
//   npx tsx samples/initLab/generate.ts OUT_DIR [--width 4096] [--seed 0]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeOnnxFile } from '../../src/core/onnx/writer';
import { INIT_LAB_CASES, LECTURE_WIDTH, buildInitLabModel } from '../../src/runtime/initLab';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const out = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1]!.startsWith('--')));
if (!out) {
  process.stderr.write('usage: npx tsx samples/initLab/generate.ts OUT_DIR [--width 4096] [--seed 0]\n');
  process.exit(2);
}
const width = flag('--width', LECTURE_WIDTH);
const seed = flag('--seed', 0);
mkdirSync(out, { recursive: true });
for (const c of INIT_LAB_CASES) {
  const file = join(out, `initlab-${c.id}.onnx`);
  // At the lecture's width the weights exceed what one protobuf should hold comfortably, so they go to a .data file.
  writeOnnxFile(buildInitLabModel(c, { width, seed }), file, { externalData: width >= 2048 });
  process.stdout.write(`${file}: ${c.expected}\n`);
}
