// Bad input fails early with a MetagradError subclass naming the op and the shapes.
import test from 'tape';
import * as mg from '../../ts/index.js';

const T = (shape: number[], dtype: mg.DType = 'float32') => mg.zeros(shape, { dtype });

test('errors: mismatched shapes name the op and the shapes', (t) => {
  t.throws(() => mg.add(T([2, 3]), T([4])), (e: unknown) => e instanceof mg.ShapeError && /add: shapes \[2, 3\] and \[4\] cannot be broadcast/.test((e as Error).message));
  t.throws(() => mg.matmul(T([2, 3]), T([4, 5])), (e: unknown) => e instanceof mg.ShapeError && /matmul: inner dims differ: \[2, 3\] @ \[4, 5\]/.test((e as Error).message));
  t.throws(() => mg.reshape(T([2, 3]), [4, 2]), /reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, 2\]/);
  t.throws(() => mg.conv2d(T([1, 3, 5, 5]), T([2, 2, 3, 3])), /conv2d: weight \[2, 2, 3, 3\] expects 2 input channels.*input \[1, 3, 5, 5\] has 3/);
  t.throws(() => mg.conv2d(T([1, 1, 2, 2]), T([1, 1, 3, 3])), /conv2d: kernel 3×3.*does not fit input 2×2/);
  t.throws(() => mg.concat([T([2, 3]), T([3, 3])], 1), /concat: shapes \[2, 3\], \[3, 3\] differ outside axis 1/);
  t.throws(() => mg.slice(T([2, 3]), [1, 2], [2, 2]), (e: unknown) => e instanceof mg.ShapeError && /slice: .*out of bounds for \[2, 3\]/.test((e as Error).message));
  t.throws(() => mg.sum(T([2, 3]), 2), /sum: axis 2 is out of range for a tensor of rank 2/);
  t.throws(() => mg.maxPool2d(T([2, 3]), { kernelSize: 2 }), /maxPool2d: input must be \[N, C, H, W\], got \[2, 3\]/);
  t.throws(() => mg.mse(T([2, 3]), T([3, 2])), /mse: prediction \[2, 3\] and target \[3, 2\] must have the same shape/);
  t.end();
});

test('errors: wrong dtypes', (t) => {
  t.throws(() => mg.add(T([2]), T([2], 'float64')), (e: unknown) => e instanceof mg.DTypeError && /add: dtypes differ: float32 \[2\] vs float64 \[2\]/.test((e as Error).message));
  t.throws(() => mg.exp(T([2], 'int32')), (e: unknown) => e instanceof mg.DTypeError && /exp: expected a floating-point tensor, got int32 \[2\]/.test((e as Error).message));
  t.throws(() => mg.gather(T([3, 2]), T([2])), (e: unknown) => e instanceof mg.DTypeError && /^gather: indices must be int32, got float32/.test((e as Error).message));
  t.throws(() => mg.exp([1, 2] as unknown as mg.Tensor), (e: unknown) => e instanceof mg.DTypeError && /exp: input must be a Tensor, got Array/.test((e as Error).message));
  t.throws(() => mg.zeros([2], { dtype: 'float8' as mg.DType }), mg.DTypeError);
  t.end();
});

test('errors: float labels and out-of-range labels in crossEntropy', (t) => {
  t.throws(() => mg.crossEntropy(T([4, 3]), T([4])), (e: unknown) => e instanceof mg.DTypeError && /crossEntropy: labels must be int32 class indices, got float32 \[4\]/.test((e as Error).message));
  t.throws(() => mg.crossEntropy(T([4, 3]), mg.tensor([0, 1, 2, 3], { dtype: 'int32' })), (e: unknown) => e instanceof mg.ShapeError && /index 3 .* out of range \[0, 3\)/.test((e as Error).message));
  t.throws(() => mg.crossEntropy(T([4, 3]), mg.tensor([0, 1], { dtype: 'int32' })), /crossEntropy: logits \[4, 3\] need labels of shape \[4\], got \[2\]/);
  t.throws(() => mg.oneHot(mg.tensor([0, 5], { dtype: 'int32' }), 3), /oneHot: index 5/);
  t.end();
});

test('errors: grad of a non-scalar without gradOutputs, and inputs that do not require grad', (t) => {
  const x = mg.tensor([1, 2, 3], { requiresGrad: true });
  const y = mg.mul(x, 2);
  t.throws(() => mg.gradients(y, [x]), (e: unknown) => e instanceof mg.GradError && /^gradients: output 0 has shape \[3\], not a scalar; pass gradOutputs/.test((e as Error).message));
  t.throws(() => mg.grad((x: mg.Tensor) => mg.mul(x, 2))(x), (e: unknown) => e instanceof mg.GradError && /f must return a scalar, got shape \[3\]/.test((e as Error).message));
  const z = mg.tensor([1, 2]);
  t.throws(() => mg.gradients(mg.sum(mg.mul(z, 2)), [z]), (e: unknown) => e instanceof mg.GradError && /input 0 \(float32 \[2\]\) does not require grad/.test((e as Error).message));
  t.throws(() => mg.gradients(mg.sum(x), [x], { gradOutputs: [mg.ones([2])] }), /gradOutputs\[0\] has shape \[2\] but output 0 has shape \[\]/);
  t.end();
});

test('errors: a second backward through a freed graph is reported', (t) => {
  const x = mg.tensor([1, 2], { requiresGrad: true });
  const loss = mg.sum(mg.exp(x));
  mg.gradients(loss, [x]);
  t.throws(() => mg.gradients(loss, [x]), (e: unknown) => e instanceof mg.GradError && /already freed by an earlier backward pass; pass \{ retainGraph: true \}/.test((e as Error).message));
  const l2 = mg.sum(mg.exp(x));
  mg.gradients(l2, [x], { retainGraph: true });
  t.doesNotThrow(() => mg.gradients(l2, [x]), 'retainGraph keeps it');
  t.end();
});

test('errors: use after dispose', (t) => {
  const x = mg.tensor([[1, 2], [3, 4]]);
  x.dispose();
  t.throws(() => mg.matmul(x, x), (e: unknown) => e instanceof mg.DisposedError && /matmul: tensor #\d+ float32 \[2, 2\] was used after dispose\(\)/.test((e as Error).message));
  t.throws(() => x.dataSync(), mg.DisposedError);
  t.end();
});

test('errors: every error is a MetagradError', (t) => {
  for (const E of [mg.ShapeError, mg.DTypeError, mg.BackendError, mg.DataError, mg.GradError, mg.DisposedError]) {
    t.ok(new E('x') instanceof mg.MetagradError, `${E.name} extends MetagradError`);
  }
  t.throws(() => mg.getBackend('nope'), (e: unknown) => e instanceof mg.BackendError && /^getBackend: unknown backend 'nope'; registered: js/.test((e as Error).message));
  t.end();
});
