import { strict as assert } from 'node:assert';
import { choiceKey, choiceToProbeOptions, fixedBatch, describeChoice, parseStoredChoice, readProbeSettings, DEFAULT_PROBE_SETTINGS } from '../../../src/host/probeChoices';

describe('host/probeChoices', () => {
  it('reads settings and replaces malformed values by defaults', () => {
    const s = readProbeSettings((k) => ({ executionProvider: 'cuda', deviceId: 1, 'probe.memoryBudgetMB': 64, 'probe.inputMemoryBudgetMB': 100, 'probe.bins': 32, 'probe.timeoutSeconds': 30 })[k]);
    assert.deepEqual(s, { executionProvider: 'cuda', deviceId: 1, budgetMB: 64, inputBudgetMB: 100, bins: 32, timeoutSeconds: 30 });
    const bad = readProbeSettings((k) => ({ executionProvider: 'tpu', deviceId: -1, 'probe.memoryBudgetMB': 'lots', 'probe.inputMemoryBudgetMB': -5, 'probe.bins': 1e9 })[k]);
    assert.deepEqual(bad, { ...DEFAULT_PROBE_SETTINGS, bins: 4096 });
  });

  it('round-trips stored choices and drops anything unexpected', () => {
    const random = { kind: 'random', distribution: 'uniform', seed: 3, batch: 4, shapes: { x: [4, 3, 8, 8], bad: ['a'] } };
    assert.deepEqual(parseStoredChoice(random), { kind: 'random', distribution: 'uniform', seed: 3, batch: 4, shapes: { x: [4, 3, 8, 8] } });
    assert.deepEqual(parseStoredChoice({ kind: 'npy', files: [{ path: '/a/x.npy', name: 'x' }, { nope: 1 }] }), { kind: 'npy', files: [{ path: '/a/x.npy', name: 'x' }] });
    assert.equal(parseStoredChoice({ kind: 'npy', files: [] }), undefined);
    assert.equal(parseStoredChoice('random'), undefined);
    assert.equal(parseStoredChoice({ kind: 'random', distribution: 'cauchy' }), undefined);
    assert.equal(choiceKey('file:///m.onnx'), 'layerscope.probe.input:file:///m.onnx');
  });

  it('turns a choice and the settings into probe options', () => {
    const o = choiceToProbeOptions({ kind: 'random', distribution: 'normal', seed: 1, batch: 16 }, { ...DEFAULT_PROBE_SETTINGS, budgetMB: 2 });
    assert.equal(o.random, 'normal');
    assert.equal(o.batch, 16);
    assert.equal(o.budgetBytes, 2 * 1024 * 1024);
    assert.equal(o.provider, 'auto');
    assert.equal(o.timeoutMs, 600_000);
    assert.equal(o.memoryBudgetBytes, undefined, 'the input budget is automatic by default');
    assert.equal(choiceToProbeOptions({ kind: 'random', distribution: 'normal', seed: 1, batch: 1 }, { ...DEFAULT_PROBE_SETTINGS, inputBudgetMB: 3 }).memoryBudgetBytes, 3 * 1024 * 1024);
    const i = choiceToProbeOptions({ kind: 'image', path: '/p/cat.jpg' }, DEFAULT_PROBE_SETTINGS);
    assert.deepEqual(i.sources, [{ kind: 'image', path: '/p/cat.jpg' }]);
    assert.equal(describeChoice({ kind: 'npy', files: [{ name: 'x', path: 'C:\\data\\x.npy' }] }), 'x=x.npy');
    assert.equal(describeChoice({ kind: 'random', distribution: 'normal', seed: 0, batch: 1 }), 'random normal, seed 0, batch 1');
  });

  it('knows when a model fixes its batch size, so that it is not asked for', () => {
    assert.equal(fixedBatch([{ shape: [1, 3, 32, 32] }]), 1);
    assert.equal(fixedBatch([{ shape: [8, 3, 32, 32] }, { shape: [8, 4] }]), 8);
    assert.equal(fixedBatch([{ shape: ['N', 3, 32, 32] }]), null);
    assert.equal(fixedBatch([{ shape: [null, 3] }]), null);
    assert.equal(fixedBatch([{ shape: null }]), null);
    assert.equal(fixedBatch([{ shape: [1, 3] }, { shape: [2, 3] }]), null);
  });
});
