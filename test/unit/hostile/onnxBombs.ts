import { GraphBuilder } from '../../../src/core/ir/builder';
import type { FunctionDef, Model, Node } from '../../../src/core/ir/types';
import { writeOnnx } from '../../../src/core/onnx/index';

/**
 * Tiny ONNX files that used to make static analysis explode (issue 11, class 1): recursive and fan-out model-local
 * functions, huge function bodies, and shapes or counts in the file that drive an allocation. Each is a few hundred
 * bytes, built here rather than committed.
 */

function call(name: string, input: string, output: string, domain = 'local'): Node {
  return { name: '', opType: name, domain, inputs: [input], outputs: [output], attributes: [] };
}

function fn(name: string, nodes: Node[], domain = 'local'): FunctionDef {
  return {
    name,
    domain,
    inputs: ['x'],
    outputs: [nodes.length > 0 ? nodes[nodes.length - 1].outputs[0] : 'x'],
    attributes: [],
    attributeDefaults: [],
    nodes,
    opsetImports: [{ domain: '', version: 17 }, { domain, version: 1 }],
    valueInfo: [],
  };
}

function withFunctions(functions: FunctionDef[], entry: string): Model {
  const b = new GraphBuilder('bomb');
  const x = b.input('x', 'float32', [1, 4]);
  const y = b.op(entry, [x], {}, { domain: 'local' });
  b.output(y, 'float32', null);
  const model = b.model(17, { functions });
  model.opsetImports.push({ domain: 'local', version: 1 });
  return model;
}

/** `F` calls itself `fanout` times in a chain (ONNX forbids recursion; unmemoised inlining is fanout^depth). */
export function recursiveFunction(fanout = 6): Uint8Array {
  const nodes: Node[] = [];
  let prev = 'x';
  for (let i = 0; i < fanout; i++) {
    nodes.push(call('F', prev, `t${i}`));
    prev = `t${i}`;
  }
  return writeOnnx(withFunctions([fn('F', nodes)], 'F'));
}

/** `F0` calls `F1` `fanout` times, … down to a plain Relu: fanout^depth inlined nodes without memoisation. */
export function fanoutChain(depth = 15, fanout = 10): Uint8Array {
  const fns: FunctionDef[] = [];
  for (let level = 0; level < depth; level++) {
    const nodes: Node[] = [];
    let prev = 'x';
    for (let i = 0; i < fanout; i++) {
      const callee = level === depth - 1 ? 'Relu' : `F${level + 1}`;
      nodes.push(level === depth - 1 ? { name: '', opType: 'Relu', domain: '', inputs: [prev], outputs: [`t${i}`], attributes: [] } : call(callee, prev, `t${i}`));
      prev = `t${i}`;
    }
    fns.push(fn(`F${level}`, nodes));
  }
  return writeOnnx(withFunctions(fns, 'F0'));
}

/** One function of `bodyNodes` Relu nodes, called `calls` times in a chain from the main graph. */
export function bigFunction(bodyNodes: number, calls: number): Uint8Array {
  const nodes: Node[] = [];
  let prev = 'x';
  for (let i = 0; i < bodyNodes; i++) {
    nodes.push({ name: '', opType: 'Relu', domain: '', inputs: [prev], outputs: [`r${i}`], attributes: [] });
    prev = `r${i}`;
  }
  const b = new GraphBuilder('bomb');
  let y = b.input('x', 'float32', ['N', 4]);
  // Each call sees a different input shape (a Concat grows the last dim), so memoising by signature cannot help.
  for (let i = 0; i < calls; i++) {
    y = b.op('Big', [y], {}, { domain: 'local' });
    if (i + 1 < calls) y = b.op('Concat', [y, y], { axis: 0 });
  }
  b.output(y, 'float32', null);
  const model = b.model(17, { functions: [fn('Big', nodes)] });
  model.opsetImports.push({ domain: 'local', version: 1 });
  return writeOnnx(model);
}

/** An op whose only input is declared as a 1-D int64 tensor of `n` elements: a shape of rank n. */
function rankFromDeclaredShape(op: 'ConstantOfShape' | 'Reshape' | 'Expand', n: number): Uint8Array {
  const b = new GraphBuilder('bomb');
  const s = b.input('s', 'int64', [n]);
  const inputs = op === 'ConstantOfShape' ? [s] : [b.input('x', 'float32', [1]), s];
  const y = b.op(op, inputs);
  b.output(y, 'float32', null);
  return writeOnnx(b.model(17));
}

export const constantOfShapeRank = (n = 2_000_000_000): Uint8Array => rankFromDeclaredShape('ConstantOfShape', n);
export const reshapeRank = (n = 2_000_000_000): Uint8Array => rankFromDeclaredShape('Reshape', n);
export const expandRank = (n = 2_000_000_000): Uint8Array => rankFromDeclaredShape('Expand', n);

/** Split with `num_outputs` far beyond its outputs. */
export function splitOutputs(n = 2_000_000_000, declaredDim: number | string = 'N'): Uint8Array {
  const b = new GraphBuilder('bomb');
  const x = b.input('x', 'float32', [declaredDim]);
  const [y] = b.node('Split', [x], { axis: 0, num_outputs: n }, { outputs: 1 });
  b.output(y, 'float32', null);
  return writeOnnx(b.model(18));
}

/** Scan with `num_scan_inputs` far beyond its inputs. */
export function scanInputs(n = 2_000_000_000): Uint8Array {
  const body = new GraphBuilder('body');
  const s = body.input('s', 'float32', [1]);
  const o = body.op('Identity', [s]);
  body.output(o, 'float32', [1]);
  const b = new GraphBuilder('bomb');
  const x = b.input('x', 'float32', [1]);
  const y = b.op('Scan', [x], { num_scan_inputs: n, body: body.build() });
  b.output(y, 'float32', null);
  return writeOnnx(b.model(17));
}

/** A graph input of rank `n` (a 1-element dims list repeated), which shape rules would copy around. */
export function declaredRank(n: number): Uint8Array {
  const b = new GraphBuilder('bomb');
  const x = b.input('x', 'float32', new Array(n).fill(1));
  const y = b.op('Relu', [x]);
  b.output(y, 'float32', null);
  return writeOnnx(b.model(17));
}

/** A plain model with symbolic dims, which probes and gradient probes accept any input shape for. */
export function symbolicConvNet(): Uint8Array {
  const b = new GraphBuilder('symbolic');
  const x = b.input('x', 'float32', ['N', 3, 'H', 'W']);
  const w = b.initializer('w', 'float32', [4, 3, 3, 3], new Float32Array(108).fill(0.1));
  const y = b.op('Conv', [x, w], { pads: [1, 1, 1, 1] });
  const z = b.op('Relu', [y]);
  b.output(z, 'float32', ['N', 4, 'H', 'W']);
  return writeOnnx(b.model(17));
}

/** A model whose node names, op types, producer and graph name carry terminal, Markdown and HTML payloads. */
export function hostileNames(): Uint8Array {
  const b = new GraphBuilder('graph\u001b]0;pwned\u0007');
  const x = b.input('in\u202eput', 'float32', [1, 4]);
  const names = [
    'esc\u001b[2Jclear',
    'bell\u0007cr\roverwrite',
    'rlo\u202etxt.exe',
    'pipe|cell|break',
    'new\nline',
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '[click](javascript:alert(1))',
    '=HYPERLINK("http://evil","x")',
  ];
  let y = x;
  for (const name of names) y = b.op('Relu', [y], {}, { name });
  y = b.op('Op|With<b>Pipe</b>', [y], {}, { name: 'custom', domain: 'evil' });
  b.output(y, 'float32', null);
  const model = b.model(17, { producerName: 'prod\u001b[31mred\u009b' });
  model.opsetImports.push({ domain: 'evil', version: 1 });
  return writeOnnx(model);
}
