import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Attribute, Graph, Model, Node, SparseTensor, Tensor } from '../../../../src/core/ir/types';
import { readTensorBytes } from '../../../../src/core/onnx/tensorBytes';

/** A fresh temporary folder under os.tmpdir(), removed by the returned cleanup function. */
export function makeTempDir(prefix = 'layerscope-onnx-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

let pythonChecked: string | null | undefined;

/**
 * Debian's /usr/bin/python3 with onnx (the oracle), or null when it is missing. The python3 on PATH may be a pyenv
 * without onnx, so the path is fixed.
 */
export function findPythonWithOnnx(): string | null {
  if (pythonChecked !== undefined) return pythonChecked;
  const candidate = '/usr/bin/python3';
  pythonChecked = null;
  if (fs.existsSync(candidate)) {
    const r = spawnSync(candidate, ['-c', 'import onnx, numpy; print(onnx.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) pythonChecked = candidate;
  }
  return pythonChecked;
}

/**
 * Skips the calling test (or suite) when the Python oracle is missing, except on CI, where a missing oracle is a
 * failure because CI installs it.
 */
export function requirePython(ctx: Mocha.Context): string {
  const py = findPythonWithOnnx();
  if (py) return py;
  if (process.env.CI) throw new Error('CI is set but /usr/bin/python3 with onnx is missing (apt install python3-onnx)');
  console.log('      (skipped: /usr/bin/python3 with the onnx package was not found)');
  ctx.skip();
}

/**
 * Runs a Python script with the oracle and returns its stdout; throws with stderr on failure. With `scriptDir` the
 * script is saved there and run as a file, which torch.jit.script needs (it reads the source of what it compiles).
 */
export function runPython(py: string, script: string, args: string[] = [], scriptDir?: string): string {
  let argv = ['-c', script, ...args];
  if (scriptDir) {
    const file = path.join(scriptDir, `script-${process.pid}-${Date.now()}.py`);
    fs.writeFileSync(file, script);
    argv = [file, ...args];
  }
  const r = spawnSync(py, argv, { encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A model with every tensor's data loaded as bytes and the source path dropped, so that models read from a file,
 * from bytes and built in memory compare structurally with deepStrictEqual.
 */
export function normalizeModel(model: Model): unknown {
  const tensor = (t: Tensor): unknown => ({
    ...t,
    dims: [...t.dims],
    data: t.data.kind === 'strings' ? { strings: t.data.values.map((v) => Array.from(v)) } : { bytes: Array.from(readTensorBytes(t)) },
  });
  const sparse = (s: SparseTensor): unknown => ({ values: tensor(s.values), indices: tensor(s.indices), dims: s.dims });
  const attribute = (a: Attribute): unknown => {
    switch (a.type) {
      case 'tensor':
        return { ...a, value: tensor(a.value) };
      case 'tensors':
        return { ...a, value: a.value.map(tensor) };
      case 'graph':
        return { ...a, value: graph(a.value) };
      case 'graphs':
        return { ...a, value: a.value.map(graph) };
      case 'sparseTensor':
        return { ...a, value: sparse(a.value) };
      case 'sparseTensors':
        return { ...a, value: a.value.map(sparse) };
      default:
        return a;
    }
  };
  const node = (n: Node): unknown => ({ ...n, attributes: n.attributes.map(attribute) });
  const graph = (g: Graph): unknown => ({
    ...g,
    nodes: g.nodes.map(node),
    initializers: g.initializers.map(tensor),
    sparseInitializers: g.sparseInitializers.map(sparse),
  });
  const { path: _path, ...rest } = model;
  void _path;
  return {
    ...rest,
    graph: graph(model.graph),
    functions: model.functions.map((f) => ({ ...f, nodes: f.nodes.map(node), attributeDefaults: f.attributeDefaults.map(attribute) })),
  };
}
