// Creation functions reject what they cannot represent (issue 14, items 6, 7 and 9): an
// options object in the shape position, non-numeric data, int32 gradients, huge shapes.
import test from 'tape';
import * as mg from '../../ts/index.js';

const is = (cls: new (...a: any[]) => Error, re: RegExp) => (e: unknown) => e instanceof cls && re.test((e as Error).message);

test('tensor(): an options object in the shape position is understood or rejected, never ignored', (t) => {
  t.throws(() => mg.tensor([1, 2, 3, 4], { shape: [2, 2] } as unknown as mg.CreateOptions), is(mg.ValueError, /tensor: unknown option 'shape'.*pass the shape as the second argument/), 'shape as an option');
  t.throws(() => mg.tensor([1, 2], { dtyp: 'float64' } as unknown as mg.CreateOptions), is(mg.ValueError, /unknown option 'dtyp'/), 'a misspelt option');
  t.throws(() => mg.tensor([1, 2], { dtype: 'float32' } as unknown as number[], {}), is(mg.ShapeError, /second argument must be the shape/), 'options then options');
  t.throws(() => mg.tensor([1, 2], [2], 'float64' as unknown as mg.CreateOptions), is(mg.ValueError, /options must be an object/), 'a string for options');
  const x = mg.tensor([1, 2, 3, 4], [2, 2], { dtype: 'float64' });
  t.deepEqual([x.shape, x.dtype], [[2, 2], 'float64'], 'the documented signature still works');
  t.deepEqual(mg.tensor([1, 2], { dtype: 'int32' }).dtype, 'int32', 'options in second position');
  t.end();
});

test('tensor() and full(): non-numeric data is a DTypeError naming where it is', (t) => {
  t.throws(() => mg.tensor([1, 'a'] as unknown as number[]), is(mg.DTypeError, /tensor: data\[1\] is "a"; expected a number/), "[1, 'a']");
  t.throws(() => mg.tensor([[1, 2], [3, null]] as unknown as number[][]), is(mg.DTypeError, /data\[1\]\[1\] is null/), 'a null inside');
  t.throws(() => mg.tensor(null as unknown as number), is(mg.DTypeError, /data must be a number.*got null/), 'null');
  t.throws(() => mg.tensor({} as unknown as number), is(mg.DTypeError, /got an object/), '{}');
  t.throws(() => mg.tensor(undefined as unknown as number), mg.DTypeError, 'undefined');
  t.throws(() => mg.tensor('3' as unknown as number), mg.DTypeError, 'a string');
  t.throws(() => mg.tensor(new DataView(new ArrayBuffer(8)) as unknown as Float32Array), mg.DTypeError, 'a DataView');
  t.throws(() => mg.full([2], 'x' as unknown as number), is(mg.DTypeError, /full: the fill value must be a number, got "x"/), "full([2], 'x')");
  t.throws(() => mg.tensor([2 ** 31], { dtype: 'int32' }), is(mg.DTypeError, /not an int32 integer/), 'an int32 overflow');
  t.throws(() => mg.full([1], 2 ** 32, { dtype: 'int32' }), mg.DTypeError, 'full int32 overflow');
  t.ok(Number.isNaN(mg.tensor([NaN]).dataSync()[0]!), 'NaN itself is a number and is kept');
  t.deepEqual(Array.from(mg.tensor([true, false]).dataSync()), [1, 0], 'booleans are 1 and 0');
  t.deepEqual(Array.from(mg.tensor(new Uint8Array([1, 255]) as unknown as Int32Array).dataSync()), [1, 255], 'other typed arrays are read as numbers');
  t.end();
});

test('int32 tensors cannot require gradients', (t) => {
  t.throws(() => mg.tensor([1, 2], { dtype: 'int32', requiresGrad: true }), is(mg.DTypeError, /int32 tensor cannot require gradients/), 'tensor()');
  t.throws(() => mg.zeros([2], { dtype: 'int32', requiresGrad: true }), mg.DTypeError, 'zeros()');
  t.throws(() => mg.requireGrad(mg.tensor([1], { dtype: 'int32' })), mg.DTypeError, 'requireGrad()');
  const i = mg.tensor([1], { dtype: 'int32' });
  t.throws(() => { i.requiresGrad = true; }, mg.DTypeError, 'the requiresGrad setter');
  t.throws(() => mg.tensor([1], { requiresGrad: 'yes' as unknown as boolean }), mg.ValueError, 'requiresGrad must be a boolean');
  t.ok(mg.tensor([1], { requiresGrad: true }).requiresGrad, 'float tensors still can');
  t.end();
});

test('huge shapes fail at once with the op, the shape and the byte count', (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    ['zeros([1e6, 1e6])', () => mg.zeros([1e6, 1e6]), /zeros: shape \[1000000, 1000000\] has 1\.000e\+12 elements \(4000000000000 bytes, 3725\.3 GiB\)/],
    ['ones([65536, 65536])', () => mg.ones([65536, 65536]), /ones: shape \[65536, 65536\].*17179869184 bytes/],
    ['arange(0, 1e12)', () => mg.arange(0, 1e12), /arange: shape \[1000000000000\]/],
    ['zeros([2 ** 31])', () => mg.zeros([2 ** 31]), /zeros: shape \[2147483648\]/],
    ['full([2 ** 16, 2 ** 16], 1, float64)', () => mg.full([2 ** 16, 2 ** 16], 1, { dtype: 'float64' }), /full: .*34359738368 bytes/],
    ['tensor(data, [1e9, 1e9])', () => mg.tensor([1], [1e9, 1e9]), /tensor: shape \[1000000000, 1000000000\]/],
    ['linspace(0, 1, 1e10)', () => mg.linspace(0, 1, 1e10), /linspace: shape/],
    ['eye(1e6)', () => mg.eye(1e6), /eye: shape \[1000000, 1000000\]/],
  ];
  for (const [what, f, re] of cases) {
    const t0 = Date.now();
    t.throws(f, is(mg.ShapeError, re), what);
    t.ok(Date.now() - t0 < 500, `${what} fails within half a second (${Date.now() - t0} ms)`);
  }
  t.end();
});
