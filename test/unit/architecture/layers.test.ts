import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layering that README's "How it works" describes, checked on the sources: src/core imports neither vscode nor
 * onnxruntime nor anything outside core; src/runtime and src/cli never import from src/host or vscode (the gradient
 * runtime used to live in host/ and the CLI imported it from there); webview/ imports nothing from src/host,
 * src/runtime or src/cli.
 */

const REPO = resolve(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier a file imports, requires or import()s. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

/** Where a relative import lands, as a repository path ('src/host/x'); bare package names stay as they are. */
function target(file: string, spec: string): string {
  return spec.startsWith('.') ? relative(REPO, resolve(dirname(file), spec)).split('\\').join('/') : spec;
}

function violations(layer: string, forbidden: (t: string) => boolean): string[] {
  const bad: string[] = [];
  for (const file of sources(join(REPO, layer))) {
    for (const spec of imports(file)) {
      const t = target(file, spec);
      if (forbidden(t)) bad.push(`${relative(REPO, file)} imports ${spec}`);
    }
  }
  return bad;
}

describe('architecture: layers import only downward', () => {
  it('src/core imports nothing outside core, and neither vscode nor onnxruntime', () => {
    const bad = violations('src/core', (t) => t === 'vscode' || t.startsWith('onnxruntime') || t.startsWith('src/') && !t.startsWith('src/core'));
    assert.deepEqual(bad, []);
  });

  it('src/runtime and src/cli never import from src/host or vscode', () => {
    for (const layer of ['src/runtime', 'src/cli']) {
      assert.deepEqual(violations(layer, (t) => t === 'vscode' || t.startsWith('src/host')), [], layer);
    }
  });

  it('webview/ imports nothing from the host, the runtime or the CLI', () => {
    assert.deepEqual(violations('webview', (t) => t === 'vscode' || t.startsWith('src/host') || t.startsWith('src/runtime') || t.startsWith('src/cli')), []);
  });

  it('the check itself sees a violation', () => {
    assert.equal(target(join(REPO, 'src/cli/x.ts'), '../host/gradRunner'), 'src/host/gradRunner');
    assert.ok(imports(join(REPO, 'src/host/extension.ts')).includes('vscode'));
  });
});

/**
 * Knowledge that lives in core must not be repeated in the webview (it drifted before: the gradient panel kept its
 * own check thresholds, its own update ratio |g|/|w| against core's lr*|g|/|w|, and its own vanishing rule). Each
 * entry names what core owns and a pattern that a copy of it would match.
 */
const CORE_KNOWLEDGE: { owner: string; copy: RegExp }[] = [
  { owner: 'core/autodiff/gradCheck.ts checkThresholds', copy: /\b(fine|wrong)\s*:\s*\d/ },
  { owner: 'core/autodiff/gradCheck.ts checkVerdict', copy: /function\s+check(Class|Verdict|Bars)\b/ },
  { owner: 'core/autodiff/gradReport.ts updateRatio', copy: /\.l2\s*\/\s*\w+\.weightL2|learningRate\s*\*/ },
  { owner: 'core/autodiff/gradReport.ts gradientBands', copy: /10\s*\*\*\s*\w*decades/i },
  { owner: 'core/ir/opCatalogue.ts (op categories, activation ops)', copy: /['"(|]LeakyRelu['"|)]/ },
  // How numbers read (short forms, digit grouping, significant digits, percentages, durations) is core/format.ts's:
  // the webview once printed 11.7 M where the CLI printed 11.69 M for the same count.
  { owner: 'core/format.ts (number formatting)', copy: /\.(toFixed|toPrecision|toExponential|toLocaleString)\s*\(|\bIntl\.NumberFormat\b|\(\?=\(\\d\{3\}\)|\[\s*1e(3|6|9|12)\s*,\s*['"][kKMGTB]/ },
];

describe('architecture: the webview draws what core decided', () => {
  it('no webview file repeats a threshold or formula that core owns', () => {
    const found: string[] = [];
    for (const file of sources(join(REPO, 'webview'))) {
      const text = readFileSync(file, 'utf8');
      for (const k of CORE_KNOWLEDGE) if (k.copy.test(text)) found.push(`${relative(REPO, file)} repeats ${k.owner}`);
    }
    assert.deepEqual(found, []);
  });

  it('the patterns match the copies they guard against', () => {
    assert.ok(CORE_KNOWLEDGE[0]!.copy.test("return floatType === 'float64' ? { fine: 1e-4, wrong: 1e-2 } : { fine: 3e-2, wrong: 3e-1 };"));
    assert.ok(CORE_KNOWLEDGE[2]!.copy.test('p.weightL2 > 0 ? p.l2 / p.weightL2 : 0'));
    assert.ok(CORE_KNOWLEDGE[3]!.copy.test('v < mid / 10 ** decades'));
    assert.ok(CORE_KNOWLEDGE[4]!.copy.test("const ACTIVATION_OPS = new Set(['Relu', 'LeakyRelu', 'PRelu']);"));
    assert.ok(CORE_KNOWLEDGE[4]!.copy.test('/^(Relu|LeakyRelu|PRelu)$/'));
    const format = CORE_KNOWLEDGE[5]!.copy;
    assert.ok(format.test("if (abs >= scale) return `${trim((n / scale).toPrecision(3))} ${unit}`;"));
    assert.ok(format.test('`${(share * 100).toFixed(1)}%`'));
    assert.ok(format.test("return sign + digits.replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',');"));
    assert.ok(format.test("  [1e9, 'G'],"));
    assert.ok(format.test('n.toLocaleString()'));
    assert.ok(!format.test("import { formatScaled } from '../src/core/format';"));
  });
});

/**
 * One way to open a model (core/open.ts): the readers and the source lowering are called from there (and from inside
 * their own front ends), never from the CLI, the host or the runtime, which used to repeat the `.onnx`/`.py` decision
 * and lowered source with three different initialisations. `owners` are the files allowed to call each function.
 */
const OPENERS: { name: string; owners: (file: string) => boolean }[] = [
  { name: 'readOnnxFile', owners: (f) => f === 'src/core/open.ts' || f.startsWith('src/core/onnx/') },
  { name: 'readOnnxBytes', owners: (f) => f === 'src/core/open.ts' || f.startsWith('src/core/onnx/') },
  { name: 'lowerModuleToModel', owners: (f) => f === 'src/core/open.ts' || f.startsWith('src/core/python/') },
  { name: 'loadPythonParser', owners: (f) => f === 'src/core/open.ts' || f.startsWith('src/core/python/') },
];

/** A test of a file's name against the model extensions: what modelFormat() alone decides. */
const EXTENSION_TEST = /(endsWith|extname)\(.*['"]\.(onnx|py)['"]|\/\\\.\(?(onnx|py)\b[^/]*\/i?\.test\(/;

function callers(name: string, text: string): boolean {
  return new RegExp(`\\b${name}\\s*\\(`).test(text) || new RegExp(`\\{[^}]*\\b${name}\\b[^}]*\\}\\s*from`).test(text);
}

describe('architecture: every front end opens models through core/open.ts', () => {
  it('no file outside core/open.ts (and the readers themselves) reads ONNX or lowers Python source', () => {
    const found: string[] = [];
    for (const file of sources(join(REPO, 'src'))) {
      const rel = relative(REPO, file).split('\\').join('/');
      const text = readFileSync(file, 'utf8');
      for (const o of OPENERS) if (!o.owners(rel) && callers(o.name, text)) found.push(`${rel} uses ${o.name}`);
    }
    assert.deepEqual(found, []);
  });

  it('no file outside core/open.ts decides .onnx or .py by the file name', () => {
    const found: string[] = [];
    for (const file of sources(join(REPO, 'src'))) {
      const rel = relative(REPO, file).split('\\').join('/');
      if (rel === 'src/core/open.ts') continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) if (EXTENSION_TEST.test(line)) found.push(`${rel}: ${line.trim()}`);
    }
    assert.deepEqual(found, []);
  });

  it('the patterns match the copies they guard against', () => {
    assert.ok(callers('readOnnxFile', "    return { model: readOnnxFile(file), inputShapeApplied: false };"));
    assert.ok(callers('lowerModuleToModel', "import { lowerModuleToModel } from '../core/python/lower';"));
    assert.ok(!callers('readOnnxFile', "import { readOnnxFileOptions } from './x';"));
    assert.ok(EXTENSION_TEST.test("  if (extname(file).toLowerCase() !== '.py') {"));
    assert.ok(EXTENSION_TEST.test("if (!inspector && uri.path.toLowerCase().endsWith('.onnx')) {"));
    assert.ok(EXTENSION_TEST.test('  return editor && /\\.(onnx|py)$/i.test(editor.fsPath) ? editor : undefined;'));
    assert.ok(!EXTENSION_TEST.test("      const out = doc.uri.fsPath.replace(/\\.py$/i, '') + `.${target.name}.onnx`;"));
  });
});

/**
 * The static interpreter is two layers (issue 12, item 5): generic Python evaluation in core/python/pythonExecution.ts
 * and torch semantics in core/python/interpreter.ts, whose Interpreter extends it. The generic layer must not grow
 * torch knowledge back: it imports none of the torch rule modules, and no torch name appears in its code.
 */
const TORCH_RULE_MODULES = ['interpreter', 'layers', 'layerShapes', 'layerFragment', 'params', 'lowerContext', 'lower'];
const TORCH_IN_CODE = /['"`]torch\.|\bnn\.[A-Z]|\bF\.[a-z]|'(Sequential|ModuleList|ModuleDict|Parameter)'|emitOp|tensorFunction|applyLayerRules/;

function codeOnly(text: string): string {
  // Comments may explain what the torch layer adds; only code counts.
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

describe('architecture: generic Python evaluation knows no torch', () => {
  const file = join(REPO, 'src/core/python/pythonExecution.ts');

  it('pythonExecution.ts imports none of the torch rule modules', () => {
    const bad = imports(file).filter((spec) => TORCH_RULE_MODULES.includes(spec.replace(/^\.\//, '')));
    assert.deepEqual(bad, []);
  });

  it('pythonExecution.ts names no torch path, layer type or tensor operation in its code', () => {
    const bad = codeOnly(readFileSync(file, 'utf8'))
      .split('\n')
      .filter((line) => TORCH_IN_CODE.test(line));
    assert.deepEqual(bad, []);
  });

  it('the pattern matches the torch knowledge that used to live there', () => {
    assert.ok(TORCH_IN_CODE.test("const MODULE_BASES = new Set(['torch.nn.Module', 'torch.nn.Sequential']);"));
    assert.ok(TORCH_IN_CODE.test("        return op === '+' ? v : this.emitOp(op === '-' ? 'neg' : 'not', [v], sameShape(v), [], new Map(), node);"));
    assert.ok(TORCH_IN_CODE.test("if (v.type === 'ModuleDict') return keys;"));
    assert.ok(!TORCH_IN_CODE.test(codeOnly('// The torch layer adds nn.Module semantics.')));
  });

  it('interpreter.ts builds on it', () => {
    assert.match(readFileSync(join(REPO, 'src/core/python/interpreter.ts'), 'utf8'), /export class Interpreter extends PythonExecution\b/);
  });
});
