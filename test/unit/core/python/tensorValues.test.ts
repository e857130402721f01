import { strict as assert } from 'node:assert';
import type { Value } from '../../../../src/core/python/values';
import { evalModule } from './helpers';

/**
 * Tensor code outside forward (buffers and sizes built in `__init__`): shapes, element types and, for small 1-D
 * tensors, element values. Each expected value was printed by PyTorch 1.13 / numpy 1.24 on the same expression (the
 * comment next to it); the values that float32 transcendental kernels leave on a rounding boundary must stay unknown.
 */

const PRELUDE = 'import math\nimport numpy as np\nimport torch\n';

async function value(expr: string): Promise<Value | undefined> {
  return evalModule(`${PRELUDE}v = ${expr}\n`, 'v');
}

function numbers(v: Value | undefined): number[] {
  assert.ok(v && v.kind === 'seq', `expected a list, got ${v?.kind === 'unknown' ? v.reason : v?.kind}`);
  return v.items.map((x) => {
    assert.equal(x.kind, 'num');
    return (x as { value: number }).value;
  });
}

describe('python/interpreter: tensors built outside forward', () => {
  it('indexes with slices, ints, None and an ellipsis as PyTorch does', async () => {
    // torch.zeros(6, 7, 8)[1:5, ::2, None].shape == (4, 4, 1, 8); [-2:, 3, 1:-1:3] == (2, 2); [..., None, 0] == (6, 7, 1)
    assert.deepEqual(numbers(await value('torch.zeros(6, 7, 8)[1:5, ::2, None].shape')), [4, 4, 1, 8]);
    assert.deepEqual(numbers(await value('torch.zeros(6, 7, 8)[-2:, 3, 1:-1:3].shape')), [2, 2]);
    assert.deepEqual(numbers(await value('torch.zeros(6, 7, 8)[..., None, 0].shape')), [6, 7, 1]);
    assert.deepEqual(numbers(await value('torch.zeros(6, 7, 8)[10:, -100:2].shape')), [0, 2, 8]);
  });

  it('builds meshgrid, stack and chunk shapes', async () => {
    // torch.stack(torch.meshgrid(torch.arange(3), torch.arange(5), indexing="xy")).shape == (2, 5, 3)
    assert.deepEqual(numbers(await value('torch.stack(torch.meshgrid(torch.arange(3), torch.arange(5), indexing="xy")).shape')), [2, 5, 3]);
    // [t.shape[1] for t in torch.zeros(6, 7, 8).chunk(4, 1)] == [2, 2, 2, 1]
    assert.deepEqual(numbers(await value('[t.shape[1] for t in torch.zeros(6, 7, 8).chunk(4, 1)]')), [2, 2, 2, 1]);
  });

  it('computes float32 element values exactly where PyTorch rounds them once', async () => {
    // torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5])).int().tolist() == [0, 2, 2, 0, -2]: half to even
    assert.deepEqual(numbers(await value('torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5])).int().tolist()')), [0, 2, 2, 0, -2]);
    // (torch.arange(3) * 0.1).tolist() == [0.0, 0.10000000149011612, 0.20000000298023224]: float32, not 0.2
    assert.deepEqual(numbers(await value('(torch.arange(3) * 0.1).tolist()')), [0, 0.10000000149011612, 0.20000000298023224]);
    // torch.round(torch.divide(16 * torch.pow(2.0, torch.tensor([0.0, 1.0, 3.0])), 8)).int().tolist() == [2, 4, 16]
    assert.deepEqual(numbers(await value('torch.round(torch.divide(16 * torch.pow(2.0, torch.tensor([0.0, 1.0, 3.0])), 8)).int().tolist()')), [2, 4, 16]);
    // torch.diff(torch.tensor([0, 2, 7])).tolist() == [2, 5]
    assert.deepEqual(numbers(await value('torch.diff(torch.tensor([0, 2, 7])).tolist()')), [2, 5]);
  });

  it('leaves a value unknown when a transcendental result sits on a rounding boundary', async () => {
    // PyTorch prints [0.0], but log's float32 kernel is not correctly rounded, so 0.5 ± an ulp could round either way.
    const v = await value('torch.round(torch.log(torch.tensor([4.0])) / math.log(2) - 1.5).tolist()');
    assert.equal(v?.kind, 'unknown');
  });

  it('reads np.linspace as numpy computes it, and len(set(...)) but not a set itself', async () => {
    // np.linspace(0, 1, 4).tolist() == [0.0, 0.3333333333333333, 0.6666666666666666, 1.0]; np.linspace(2, 5, 1) == [2.0]
    assert.deepEqual(numbers(await value('np.linspace(0, 1, 4).tolist()')), [0, 0.3333333333333333, 0.6666666666666666, 1]);
    assert.deepEqual(numbers(await value('np.linspace(2, 5, 1).tolist()')), [2]);
    assert.deepEqual(numbers(await value('np.linspace(0, 1, 0).tolist()')), []);
    const n = await value('len(set([3, 1, 3, 2]))');
    assert.deepEqual(n, { kind: 'num', value: 3, isInt: true });
    assert.equal((await value('list(set([3, 1]))'))?.kind, 'unknown');
  });
});
