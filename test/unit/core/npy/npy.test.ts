import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../../../../src/core/npy/npy';
import { isUserInputError } from '../../../../src/core/errors';
import { findTorchPython, runPython } from '../../runtime/oracle';

function header(dict: string, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const text = dict + ' '.repeat(total - prefix - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe('core/npy', () => {
  it('round-trips every supported dtype', () => {
    const cases = [
      { dtype: 'float32' as const, shape: [2, 3], data: new Float32Array([1, -2.5, 3, 4, 5, 6.25]) },
      { dtype: 'float64' as const, shape: [3], data: new Float64Array([Math.PI, -1e300, 0]) },
      { dtype: 'int64' as const, shape: [2, 1], data: new BigInt64Array([-7n, 9007199254740993n]) },
      { dtype: 'uint8' as const, shape: [], data: new Uint8Array([200]) },
    ];
    for (const c of cases) {
      const back = readNpy(writeNpy(c));
      assert.equal(back.dtype, c.dtype);
      assert.deepEqual(back.shape, c.shape);
      assert.deepEqual(Array.from(back.data as ArrayLike<number | bigint>), Array.from(c.data as ArrayLike<number | bigint>));
    }
  });

  it('reads version 2 and 3 headers', () => {
    const data = new Float32Array([1, 2]);
    for (const v of [2, 3]) {
      const bytes = concat(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", v), new Uint8Array(data.buffer));
      const arr = readNpy(bytes);
      assert.deepEqual(Array.from(arr.data as Float32Array), [1, 2]);
    }
  });

  it('rejects Fortran order, other dtypes, truncation and non-npy bytes with a UserInputError', () => {
    const f = concat(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"), new Uint8Array(16));
    assert.throws(() => readNpy(f, 'x.npy'), (e: unknown) => isUserInputError(e) && /Fortran order/.test((e as Error).message));
    const i16 = concat(header("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }"), new Uint8Array(4));
    assert.throws(() => readNpy(i16, 'x.npy'), (e: unknown) => isUserInputError(e) && /dtype '<i2'/.test((e as Error).message));
    const big = concat(header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }"), new Uint8Array(4));
    assert.throws(() => readNpy(big), (e: unknown) => isUserInputError(e));
    const short = concat(header("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"), new Uint8Array(8));
    assert.throws(() => readNpy(short, 'x.npy'), (e: unknown) => isUserInputError(e) && /truncated/.test((e as Error).message));
    assert.throws(() => readNpy(new Uint8Array([1, 2, 3])), (e: unknown) => isUserInputError(e));
    assert.throws(() => readNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }").subarray(0, 20)), (e: unknown) =>
      isUserInputError(e),
    );
  });

  it('agrees with NumPy in both directions', function () {
    this.timeout(60_000);
    const py = findTorchPython();
    if (!py) {
      if (process.env.CI) throw new Error('CI: /usr/bin/python3 with numpy is required');
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    try {
      runPython(
        py,
        `import numpy as np, sys
np.save(sys.argv[1] + '/a.npy', np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7)
np.save(sys.argv[1] + '/b.npy', np.array([[1, -2], [3, 2**40]], dtype=np.int64))
np.save(sys.argv[1] + '/c.npy', np.arange(6, dtype=np.uint8))
np.save(sys.argv[1] + '/f.npy', np.asfortranarray(np.ones((2, 3))))`,
        [dir],
      );
      const a = readNpy(readFileSync(join(dir, 'a.npy')));
      assert.deepEqual(a.shape, [2, 3, 4]);
      assert.ok(Math.abs((a.data as Float32Array)[23]! - 23 / 7) < 1e-6);
      const b = readNpy(readFileSync(join(dir, 'b.npy')));
      assert.deepEqual(Array.from(b.data as BigInt64Array), [1n, -2n, 3n, 2n ** 40n]);
      assert.deepEqual(Array.from(readNpy(readFileSync(join(dir, 'c.npy'))).data as Uint8Array), [0, 1, 2, 3, 4, 5]);
      assert.throws(() => readNpy(readFileSync(join(dir, 'f.npy'))), /Fortran/);

      writeFileSync(join(dir, 'w.npy'), writeNpy({ dtype: 'float64', shape: [2, 2], data: new Float64Array([1.5, 2, 3, -4]) }));
      const out = runPython(py, `import numpy as np, sys\nx = np.load(sys.argv[1])\nprint(x.dtype, x.shape, x.sum())`, [join(dir, 'w.npy')]);
      assert.equal(out.trim(), 'float64 (2, 2) 2.5');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
