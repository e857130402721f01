import * as assert from 'node:assert/strict';
import { gradChoiceKey, gradChoiceToOptions, parseStoredGradChoice, validGradChoice, type GradChoice } from '../../../src/host/gradChoices';
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
});
