import * as assert from 'node:assert/strict';
import { describeGradChoice, gradChoiceKey, gradChoiceToOptions, gradGoals, outputClassCount, parseStoredGradChoice, validGradChoice, validateTargetIndex, type GradChoice } from '../../../src/host/gradChoices';
import { DEFAULT_PROBE_SETTINGS } from '../../../src/host/probeChoices';

/** The remembered gradient-probe choice: round trip, validation of stored data, and mapping to runner options. */
describe('host: gradient probe choices', () => {
  const choice: GradChoice = { input: { kind: 'image', path: '/data/cat.png' }, loss: 'cross-entropy', target: { kind: 'class', index: 281 }, check: 20 };

  it('round-trips through workspaceState-like JSON', () => {
    assert.deepEqual(parseStoredGradChoice(JSON.parse(JSON.stringify(choice))), choice);
    assert.notEqual(gradChoiceKey('file:///a.onnx'), gradChoiceKey('file:///b.onnx'));
  });

  it('drops stored values that are malformed or inconsistent', () => {
    assert.equal(parseStoredGradChoice(null), undefined);
    assert.equal(parseStoredGradChoice({ ...choice, loss: 'hinge' }), undefined);
    assert.equal(parseStoredGradChoice({ ...choice, input: { kind: 'camera' } }), undefined);
    assert.equal(parseStoredGradChoice({ ...choice, target: undefined }), undefined, 'cross-entropy needs a target');
    assert.equal(validGradChoice({ ...choice, loss: 'mse' }), false, 'mse needs a .npy target');
    assert.equal(validGradChoice({ ...choice, loss: 'sum', target: undefined }), true);
    assert.equal(parseStoredGradChoice({ ...choice, check: -3 })?.check, 'fast');
  });

  it('maps to runner options with the provider settings', () => {
    const o = gradChoiceToOptions(choice, { ...DEFAULT_PROBE_SETTINGS, executionProvider: 'cpu', timeoutSeconds: 30 });
    assert.equal(o.loss, 'cross-entropy');
    assert.deepEqual(o.target, { kind: 'class', index: 281 });
    assert.deepEqual(o.sources, [{ kind: 'image', path: '/data/cat.png' }]);
    assert.equal(o.provider, 'cpu');
    assert.equal(o.timeoutMs, 30000);
    assert.equal(o.check, 20);
  });

  it('asks first for a class index, with the output size, and offers .npy targets last', () => {
    const goals = gradGoals(1000);
    assert.equal(goals[0]!.loss, 'cross-entropy');
    assert.equal(goals[0]!.target, 'class');
    assert.match(goals[0]!.description ?? '', /1000 classes \(0–999\)/);
    const firstFile = goals.findIndex((g) => g.target === 'npy');
    assert.ok(firstFile > 0 && goals.slice(firstFile).every((g) => g.target === 'npy'), 'every .npy choice comes after every index choice');
    assert.match(gradGoals(null)[0]!.description ?? '', /not declared/);
    // Every goal leads to a choice the runner accepts.
    for (const g of goals) {
      const target = g.target === 'npy' ? { kind: 'npy' as const, path: '/t.npy' } : g.target === 'predicted' ? { kind: 'predicted' as const } : { kind: 'class' as const, index: 3 };
      assert.ok(validGradChoice({ input: { kind: 'image', path: '/x.png' }, loss: g.loss, target, check: 0 }), g.label);
    }
  });

  it('offers the predicted class right after class K, for cross-entropy only, and remembers it', () => {
    const goals = gradGoals(10);
    assert.deepEqual(goals.slice(0, 2).map((g) => g.target), ['class', 'predicted']);
    assert.equal(goals[1]!.loss, 'cross-entropy');
    const predicted: GradChoice = { input: { kind: 'random', shapes: {} } as GradChoice['input'], loss: 'cross-entropy', target: { kind: 'predicted' }, check: 'fast' };
    const stored = { ...predicted, input: choice.input };
    assert.deepEqual(parseStoredGradChoice(JSON.parse(JSON.stringify(stored))), stored);
    assert.match(describeGradChoice(stored), /cross-entropy → the predicted class/);
    assert.equal(gradChoiceToOptions(stored, DEFAULT_PROBE_SETTINGS).target?.kind, 'predicted');
    for (const loss of ['sum', 'mean', 'mse'] as const) assert.equal(validGradChoice({ ...stored, loss }), false, loss);
  });

  it('reads the class count from the output shape and checks typed indices against it', () => {
    assert.equal(outputClassCount([1, 10]), 10);
    assert.equal(outputClassCount(['batch', 1000]), 1000);
    assert.equal(outputClassCount([1, 'classes']), null);
    assert.equal(outputClassCount(null), null);
    assert.equal(validateTargetIndex('9', 10, false), undefined);
    assert.match(validateTargetIndex('10', 10, false) ?? '', /0 to 9/);
    assert.ok(validateTargetIndex('', 10, false));
    assert.equal(validateTargetIndex('', 10, true), undefined);
    assert.ok(validateTargetIndex('-1', null, false));
  });
});
