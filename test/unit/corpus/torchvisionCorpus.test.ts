import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dim } from '../../../src/core/ir/types';
import { analyzeTree } from '../../../src/core/python/analyze';
import type { AnalyzeOptions, PythonAnalysis } from '../../../src/core/python/analyze';
import { ImportResolver } from '../../../src/core/python/imports';
import { evaluateImportedModule } from '../../../src/core/python/interpreter';
import { loadPythonParser } from '../../../src/core/python/parser';
import { mainModule, summaryFromAnalysis } from '../../../src/core/python/summary';
import type { LayerValue } from '../../../src/core/python/values';
import { totalParams } from '../../../src/core/python/params';
import { findTorchPython } from '../runtime/oracle';
import { compareLensWithLowered } from './parity';

/**
 * The corpus test: real model code that nobody here wrote (torchvision 0.14's own model files, from Debian's
 * python3-torchvision) and typical hand-written models (test/fixtures/python/corpus/), each class built with the
 * constructor arguments of its case through a module-level `corpus_model = Cls(...)` line, against PyTorch 1.13
 * building and running the same thing (test/fixtures/corpusOracle.py, one process for every case).
 *
 * The rule it checks is the project's first: every number Layerscope shows (the class total, its trainable split and
 * buffers, each sub-module's count, each layer's output shape, the lowered summary's totals) equals PyTorch's, or is
 * unknown with a reason. A case that shows a wrong number fails.
 *
 * Each case is read twice, as users meet it: with imports followed (the file's own folder and the Python environment's
 * site-packages, as the editor does once it knows the interpreter: torchvision's `from ..ops.misc import MLP`
 * resolves), and as the file alone (no interpreter known: imported names stay opaque, and what depends on them must
 * be `?`, never a count without them).
 */

interface Case {
  file: string;
  expr: string;
  input?: number[];
  dtype?: 'long';
}

interface OracleLayer {
  params: number;
  /** One entry per call; null where the output was not a tensor. */
  shapes: Array<number[] | null>;
}

interface OracleResult {
  error?: string;
  params: number;
  trainable: number;
  buffers: number;
  layers: Record<string, OracleLayer>;
  ran?: boolean;
  forwardError?: string;
}

type Verdict = 'exact' | 'unknown' | 'wrong';

/** How a case is read: with its imports followed, or as the file alone. */
type Reading = 'imports' | 'alone';

interface CaseReport {
  key: string;
  reading: Reading;
  torchvisionClass: boolean;
  verdict: Verdict;
  wrong: string[];
  unknown: string[];
}

const DIST_PACKAGES = '/usr/lib/python3/dist-packages';
const TORCHVISION = path.join(DIST_PACKAGES, 'torchvision/models');
const CORPUS = path.join(__dirname, '../../fixtures/python/corpus');
const ORACLE = path.join(__dirname, '../../fixtures/corpusOracle.py');

const torchvisionCases = JSON.parse(fs.readFileSync(path.join(CORPUS, 'torchvisionCases.json'), 'utf8')) as Case[];
const userCases = JSON.parse(fs.readFileSync(path.join(CORPUS, 'userCases.json'), 'utf8')) as Case[];

/** The share of cases whose every number is exact (the rest are `?` with a reason), per reading; it may only go up. */
const EXACT_FLOOR: Record<Reading, number> = { imports: 1, alone: 0.68 };
/** Likewise for torchvision's module classes with imports followed (issue 10 asks for 90%). */
const TORCHVISION_CLASS_FLOOR = 1;

const keyOf = (c: Case): string => `${c.file}: ${c.expr}`;
const fileOf = (c: Case, torchvision: boolean): string => (torchvision ? path.join(TORCHVISION, c.file) : path.join(CORPUS, c.file));

function runOracle(py: string, cases: Array<{ c: Case; torchvision: boolean }>): OracleResult[] {
  const input = cases.map(({ c, torchvision }) => ({
    ...(torchvision ? { module: `torchvision.models.${c.file.replace(/\.py$/, '').replace(/\//g, '.')}` } : { path: fileOf(c, false) }),
    expr: c.expr,
    ...(c.input ? { input: c.input } : {}),
    ...(c.dtype ? { dtype: c.dtype } : {}),
  }));
  const r = spawnSync(py, [ORACLE], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`corpusOracle.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as OracleResult[];
}

const fmtShape = (s: readonly Dim[] | null): string => (s ? `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : 'null');

/** Whether a shape Layerscope shows agrees with one PyTorch produced: same rank, every shown number equal. */
function agrees(ours: readonly Dim[], theirs: readonly number[]): boolean {
  return ours.length === theirs.length && ours.every((d, i) => typeof d !== 'number' || d === theirs[i]);
}

function checkShape(where: string, ours: readonly Dim[] | null, layer: OracleLayer | undefined, ran: boolean, report: CaseReport): void {
  if (!ours) return;
  if (!ours.some((d) => typeof d === 'number')) return;
  if (!ran) return;
  const calls = (layer?.shapes ?? []).filter((s): s is number[] => s !== null);
  if (calls.length === 0) {
    if (layer && layer.shapes.length > 0) return; // A non-tensor output (a tuple's other parts); nothing to compare.
    report.wrong.push(`${where}: shows output ${fmtShape(ours)} but PyTorch never calls it`);
    return;
  }
  if (!calls.some((s) => agrees(ours, s))) report.wrong.push(`${where}: output ${fmtShape(ours)}, PyTorch ${calls.map((s) => fmtShape(s)).join(' / ')}`);
  else if (ours.some((d) => typeof d !== 'number')) report.unknown.push(`${where}: output ${fmtShape(ours)} partly unknown`);
}

/** Compares one case; every number shown must be PyTorch's, or unknown with a reason. */
function compare(c: Case, a: PythonAnalysis, theirs: OracleResult, reading: Reading, torchvision: boolean): CaseReport {
  const report: CaseReport = { key: keyOf(c), reading, torchvisionClass: torchvision && /^[A-Z_]/.test(c.expr), verdict: 'exact', wrong: [], unknown: [] };
  const inst = a.instances.find((i) => i.variable === 'corpus_model');
  if (!inst) {
    report.unknown.push('not listed as a module instance');
    report.verdict = 'unknown';
    return report;
  }
  const ran = theirs.ran === true;
  if (!inst.params) {
    if (!inst.reason) report.wrong.push('the total is unknown without a reason');
    report.unknown.push(`total unknown: ${inst.reason ?? '(no reason)'}`);
  } else {
    if (inst.params.params !== theirs.params) report.wrong.push(`params ${inst.params.params}, PyTorch ${theirs.params}`);
    if (inst.params.trainable !== theirs.trainable) report.wrong.push(`trainable ${inst.params.trainable}, PyTorch ${theirs.trainable}`);
    if (inst.params.buffers !== theirs.buffers) report.wrong.push(`buffer values ${inst.params.buffers}, PyTorch ${theirs.buffers}`);
  }
  checkShape('the model', inst.outputShape, theirs.layers[''], ran, report);
  const walk = (layer: LayerValue, prefix: string): void => {
    for (const [name, child] of layer.children) {
      const where = prefix ? `${prefix}.${name}` : name;
      const torchLayer = theirs.layers[where];
      const count = totalParams(child);
      // A parameter held directly (`self.cls_token = nn.Parameter(…)`) is counted with its owner, not listed as a module.
      if (child.type === 'Parameter') continue;
      if (!torchLayer) report.wrong.push(`${where} (${child.type}): a module PyTorch does not have`);
      else if (count && count.params !== torchLayer.params) report.wrong.push(`${where} (${child.type}): params ${count.params}, PyTorch ${torchLayer.params}`);
      if (child.category === 'torch') checkShape(`${where} (${child.type})`, a.interpreter.traces.get(child)?.output ?? null, torchLayer, ran, report);
      walk(child, where);
    }
  };
  walk(inst.instance, '');
  // The CLI's summary lowers the main model to the IR and totals it there; those totals must agree too.
  if (inst.params && inst.inputShape && mainModule(a) === inst) {
    const summary = summaryFromAnalysis(a);
    if (summary.layers.length > 0) {
      // The lens's per-layer numbers must be the lowered graph's too (test/unit/corpus/parity.ts).
      report.wrong.push(...compareLensWithLowered(a, inst, c.file).problems);
      if (summary.totals.params !== theirs.params + theirs.buffers) report.wrong.push(`lowered total ${summary.totals.params}, PyTorch ${theirs.params} + ${theirs.buffers} buffer values`);
      if (summary.totals.trainableParams !== theirs.trainable) report.wrong.push(`lowered trainable ${summary.totals.trainableParams}, PyTorch ${theirs.trainable}`);
    }
  }
  report.verdict = report.wrong.length > 0 ? 'wrong' : report.unknown.length > 0 ? 'unknown' : 'exact';
  return report;
}

describe('corpus: torchvision 0.14 and hand-written models against PyTorch', function () {
  this.timeout(900_000);
  const reports: CaseReport[] = [];
  let torchvisionPresent = false;

  before(async function () {
    const py = findTorchPython();
    torchvisionPresent = fs.existsSync(path.join(TORCHVISION, 'resnet.py'));
    const withVision = py ? spawnSync(py, ['-c', 'import torchvision'], { stdio: 'ignore' }).status === 0 : false;
    if (!py) {
      if (process.env.CI) throw new Error('CI: /usr/bin/python3 with torch is required for the corpus test (apt install python3-torch)');
      console.log('    (skipped: /usr/bin/python3 with torch not found)');
      this.skip();
    }
    if (!torchvisionPresent || !withVision) {
      if (process.env.CI) throw new Error(`CI: torchvision's model files (${TORCHVISION}) are required for the corpus test (apt install python3-torchvision)`);
      console.log(`    (torchvision's model files are not at ${TORCHVISION}: only the hand-written corpus is checked)`);
      torchvisionPresent = false;
    }
    const cases = [...(torchvisionPresent ? torchvisionCases.map((c) => ({ c, torchvision: true })) : []), ...userCases.map((c) => ({ c, torchvision: false }))];
    const oracle = runOracle(py!, cases);
    const parser = await loadPythonParser();
    // One resolver per set of roots, shared by the cases, as the editor shares one per workspace and interpreter.
    const resolvers = new Map<string, ImportResolver>();
    const resolverFor = (roots: string[]): ImportResolver => {
      const key = roots.join('\0');
      if (!resolvers.has(key)) resolvers.set(key, new ImportResolver(parser, roots, evaluateImportedModule));
      return resolvers.get(key)!;
    };
    const sources = new Map<string, string>();
    try {
      for (let i = 0; i < cases.length; i++) {
        const { c, torchvision } = cases[i];
        const theirs = oracle[i];
        if (theirs.error) throw new Error(`${keyOf(c)}: PyTorch cannot build the case (${theirs.error}); fix the case`);
        const file = fileOf(c, torchvision);
        if (!sources.has(file)) sources.set(file, fs.readFileSync(file, 'utf8'));
        const source = `${sources.get(file)}\n\ncorpus_model = ${c.expr}\n`;
        const cls = /^\w+/.exec(c.expr)![0];
        const shapes: AnalyzeOptions = c.input ? { inputShapes: { [cls]: c.input } } : {};
        const roots = [path.dirname(file), ...(torchvision ? [DIST_PACKAGES] : [])];
        const readings: Array<[Reading, AnalyzeOptions]> = [
          ['imports', { ...shapes, file, importer: resolverFor(roots) }],
          ['alone', shapes],
        ];
        for (const [reading, options] of readings) {
          const tree = parser.parse(source)!;
          try {
            reports.push(compare(c, analyzeTree(tree, source, options), theirs, reading, torchvision));
          } finally {
            tree.delete();
          }
        }
      }
    } finally {
      for (const r of resolvers.values()) r.dispose();
    }
    for (const reading of ['imports', 'alone'] as const) {
      const mine = reports.filter((r) => r.reading === reading);
      const by = (v: Verdict, rs = mine): CaseReport[] => rs.filter((r) => r.verdict === v);
      const classes = mine.filter((r) => r.torchvisionClass);
      console.log(
        `    corpus, ${reading === 'imports' ? 'imports followed' : 'each file alone'}: ${mine.length} cases, ${by('exact').length} exact, ${by('unknown').length} with '?' only, ${by('wrong').length} wrong; ` +
          `torchvision module classes ${by('exact', classes).length} of ${classes.length} exact`,
      );
      if (process.env.LAYERSCOPE_CORPUS_VERBOSE) {
        for (const r of mine) if (r.verdict !== 'exact') console.log(`      ${r.verdict.padEnd(7)} ${r.key}\n        ${[...r.wrong, ...r.unknown.slice(0, 3)].join('\n        ')}`);
      }
    }
  });

  it('shows no number that differs from PyTorch, with imports followed or with the file alone', () => {
    const wrong = reports.filter((r) => r.verdict === 'wrong');
    assert.deepEqual(wrong.map((r) => `${r.key} (${r.reading})\n  ${r.wrong.join('\n  ')}`), []);
  });

  it(`keeps at least ${TORCHVISION_CLASS_FLOOR * 100}% of torchvision's module classes exact with imports followed`, () => {
    const classes = reports.filter((r) => r.reading === 'imports' && r.torchvisionClass);
    if (classes.length === 0) return;
    const exact = classes.filter((r) => r.verdict === 'exact').length;
    assert.ok(exact / classes.length >= TORCHVISION_CLASS_FLOOR, `${exact} of ${classes.length} exact`);
  });

  for (const reading of ['imports', 'alone'] as const) {
    it(`keeps at least ${EXACT_FLOOR[reading] * 100}% of the cases exact (${reading === 'imports' ? 'imports followed' : 'each file alone'})`, () => {
      const mine = reports.filter((r) => r.reading === reading);
      const exact = mine.filter((r) => r.verdict === 'exact').length;
      assert.ok(exact / mine.length >= EXACT_FLOOR[reading], `${exact} of ${mine.length} exact`);
    });
  }
});
