import { strict as assert } from 'node:assert';
import { diagnoseProbe } from '../../../../src/core/stats/diagnostics';
import type { DiagnosableLayer } from '../../../../src/core/stats/diagnostics';
import { deadUnits, initialCrossEntropy } from '../../../../src/core/stats/units';
import type { ProbeLayer } from '../../../../src/core/reports';

function layer(name: string, op: string, std: number, extra: Partial<ProbeLayer['stats']> = {}): ProbeLayer {
  return {
    name,
    op,
    output: `${name}_out`,
    shape: [16, 512],
    stats: { count: 8192, mean: 0, std, min: -1, max: 1, fracZero: 0, fracSaturated: 0, p01: 0, p50: 0, p99: 0, ...extra },
    histogram: { edges: [0, 1], counts: [1] },
  };
}

function chain(op: string, stds: number[]): DiagnosableLayer[] {
  return stds.map((s, i) => ({ layer: layer(`/act${i}`, op, s) }));
}

describe('core/stats diagnostics', () => {
  it('finds dead units along axis 1 over batch and space', () => {
    // [N=2, C=3, 2]: unit 1 is zero everywhere, unit 2 fires in the second sample only.
    const v = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5];
    assert.deepEqual(deadUnits(v, [2, 3, 2]), { units: 3, dead: 1, examples: [1] });
    assert.equal(deadUnits([1, 2], [2]), null);
  });

  it('computes the initial cross-entropy against ln C', () => {
    const uniform = initialCrossEntropy(new Array(20).fill(0.3), [2, 10]);
    assert.ok(uniform);
    assert.ok(Math.abs(uniform.loss - Math.log(10)) < 1e-12);
    assert.ok(Math.abs(uniform.expected - 2.302585) < 1e-6);
    const confident = initialCrossEntropy([10, 0, 0, 0, 10, 0], [2, 3])!;
    // Row [10, 0, 0]: −log p = lse − x with lse ≈ 10.0001: (0.0001 + 10.0001 + 10.0001) / 3 ≈ 6.667.
    assert.ok(Math.abs(confident.loss - 20.0002 / 3) < 1e-3);
    const probs = initialCrossEntropy([0.5, 0.5], [1, 2], 'probabilities')!;
    assert.ok(Math.abs(probs.loss - Math.log(2)) < 1e-12);
    assert.equal(initialCrossEntropy([1, 2, 3], [3]), null);
  });

  it('flags vanishing activations for Xavier-ReLU-like decay but not for Xavier tanh or He ReLU', () => {
    const xavierRelu = chain('Relu', [0.58, 0.41, 0.29, 0.21, 0.15, 0.1]);
    const d = diagnoseProbe(xavierRelu);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.kind, 'vanishing-activations');
    assert.equal(d[0]!.node, '/act3');
    assert.match(d[0]!.message, /He/);
    assert.deepEqual(diagnoseProbe(chain('Tanh', [0.63, 0.49, 0.41, 0.36, 0.32, 0.29])), []);
    assert.deepEqual(diagnoseProbe(chain('Relu', [0.83, 0.82, 0.84, 0.83, 0.83, 0.82])), []);
    const tiny = diagnoseProbe(chain('Tanh', [0.5, 0.3, 0.1, 0.02, 0.004, 0.0008]));
    assert.equal(tiny[0]!.kind, 'vanishing-activations');
    const growing = diagnoseProbe(chain('Relu', [1, 2, 4, 8, 16]));
    assert.equal(growing[0]!.kind, 'exploding-activations');
  });

  it('flags saturation, dead ReLUs, bad initial loss and non-finite values, naming the node', () => {
    const sat = diagnoseProbe([{ layer: layer('/tanh', 'Tanh', 0.98, { fracSaturated: 0.9 }) }]);
    assert.equal(sat.length, 1);
    assert.equal(sat[0]!.kind, 'saturated');
    assert.equal(sat[0]!.node, '/tanh');
    assert.match(sat[0]!.message, /90%/);
    assert.deepEqual(diagnoseProbe([{ layer: layer('/relu', 'Relu', 1, { fracSaturated: 0.9 }) }]), []);

    const dead = diagnoseProbe([
      { layer: layer('/relu', 'Relu', 1), findings: { deadUnits: { units: 10, dead: 3, examples: [0, 4, 7] }, observationsPerUnit: 16 } },
      { layer: layer('/relu2', 'Relu', 1), findings: { deadUnits: { units: 100, dead: 3, examples: [0, 4, 7] }, observationsPerUnit: 16 } },
    ]);
    assert.equal(dead.length, 1, "3% dead units is not flagged; 30% is");
    assert.equal(dead[0]!.kind, 'dead-relu');
    assert.match(dead[0]!.message, /3 of 10 units/);
    // A batch of one row cannot tell a dead unit from an idle one.
    assert.deepEqual(
      diagnoseProbe([{ layer: layer('/relu', 'Relu', 1), findings: { deadUnits: { units: 10, dead: 5, examples: [0] }, observationsPerUnit: 1 } }]),
      [],
    );

    const good = diagnoseProbe([{ layer: layer('/fc', 'Gemm', 1), findings: { initialLoss: { classes: 10, loss: 2.31, expected: Math.log(10) } } }]);
    assert.equal(good[0]!.kind, 'initial-loss');
    assert.match(good[0]!.message, /close to ln 10 = 2\.3/);
    const bad = diagnoseProbe([{ layer: layer('/fc', 'Gemm', 1), findings: { initialLoss: { classes: 10, loss: 9.1, expected: Math.log(10) } } }]);
    assert.match(bad[0]!.message, /over-confident/);

    const nf = diagnoseProbe([{ layer: layer('/exp', 'Exp', 1), findings: { nonFinite: 3 } }]);
    assert.equal(nf[0]!.kind, 'non-finite');
  });
});

describe('core/stats diagnostics across different nonlinearities', () => {
  it('follows the most frequent activation only, so a final sigmoid is not read as a collapse', () => {
    const mixed: DiagnosableLayer[] = [
      { layer: layer('/r1', 'Relu', 0.8) },
      { layer: layer('/t1', 'Tanh', 0.5) },
      { layer: layer('/s1', 'Sigmoid', 0.05) },
    ];
    assert.deepEqual(diagnoseProbe(mixed), []);
    const reluThenSigmoid: DiagnosableLayer[] = [...chain('Relu', [0.8, 0.8, 0.8]), { layer: layer('/out', 'Sigmoid', 0.01) }];
    assert.deepEqual(diagnoseProbe(reluThenSigmoid), []);
  });
});
