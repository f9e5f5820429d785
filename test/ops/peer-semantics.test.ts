// Values where metagrad once disagreed with PyTorch (issue 14, items 1-5), on every backend:
// cosineSimilarity broadcasting and its gradient at a zero vector, matmul of two vectors,
// NaN and infinity in relu / logsumexp / argmax / argmin / max / min, and variance's correction.
// Expected values were computed with PyTorch 1.13 in float64.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { probeBackends } from '../helpers/backends.js';

const probes = await probeBackends();
const backends = ['js', ...probes.filter((p) => p.available).map((p) => p.name)];

function near(t: test.Test, got: ArrayLike<number>, want: readonly number[], msg: string, rtol = 1e-5): void {
  const ok = got.length === want.length && want.every((w, i) => {
    const g = got[i]!;
    if (Number.isNaN(w)) return Number.isNaN(g);
    if (!Number.isFinite(w)) return g === w;
    return Math.abs(g - w) <= rtol * Math.max(1, Math.abs(w));
  });
  t.ok(ok, `${msg}: got [${Array.from(got).join(', ')}], want [${want.join(', ')}]`);
}

for (const backend of backends) {
  const dtype = backend === 'js' ? 'float64' : 'float32';
  const T = (v: mg.NestedArray, opts: mg.CreateOptions = {}) => mg.tensor(v, { dtype, backend, ...opts });

  test(`semantics ${backend}: cosineSimilarity broadcasts before taking norms`, async (t) => {
    const a = T([[1, 2, 3], [4, 5, 6]]);
    const b = T([[1, 1, 1]]);
    near(t, await mg.cosineSimilarity(a, b, 0).data(), [0.857492925712544, 0.919145030018058, 0.948683298050514], 'along the broadcast axis');
    near(t, await mg.cosineSimilarity(T([[2, 0]]), T([[3, 0], [0, 1]]), 1).data(), [1, 0], 'along the other axis');
    t.end();
  });

  test(`semantics ${backend}: cosineSimilarity at a zero vector has PyTorch's finite gradient and HVP`, async (t) => {
    const b = T([1, 2, 3]);
    const v = T([0.5, -1, 2]);
    const f = (a: mg.Tensor) => mg.cosineSimilarity(a, b, 0);
    const a0 = T([0, 0, 0]);
    near(t, await mg.grad(f)(a0).data(), [26726124.1912, 53452248.3825, 80178372.5737], 'd/da at a = 0', 1e-4);
    near(t, await mg.hvp(f, a0, v).data(), [0, 0, 0], 'HVP in a at a = 0');
    // the mixed second derivative, d/db <d/da, v>, as PyTorch gives it
    const mixed = mg.grad((bb: mg.Tensor) => mg.sum(mg.mul(mg.grad((a: mg.Tensor) => mg.cosineSimilarity(a, bb, 0))(a0), v)))(b);
    near(t, await mixed.data(), [4772522.1770, -43907204.0285, 27680628.6266], 'd/db <d/da, v> at a = 0', 1e-4);
    near(t, await mg.grad((bb: mg.Tensor) => mg.cosineSimilarity(a0, bb, 0))(b).data(), [0, 0, 0], 'd/db at a = 0');
    t.end();
  });

  test(`semantics ${backend}: matmul of two vectors is a 0-d inner product`, async (t) => {
    const y = mg.matmul(T([1, 2, 3]), T([4, 5, 6]));
    t.deepEqual(y.shape, [], 'shape []');
    near(t, await y.data(), [32], 'value');
    const [ga, gb] = mg.grad((a: mg.Tensor, b: mg.Tensor) => mg.matmul(a, b), [0, 1])(T([1, 2, 3]), T([4, 5, 6])) as unknown as mg.Tensor[];
    near(t, await ga!.data(), [4, 5, 6], 'gradient of a');
    near(t, await gb!.data(), [1, 2, 3], 'gradient of b');
    t.throws(() => mg.matmul(T([1, 2]), T([1, 2, 3])), mg.ShapeError, 'mismatched lengths are a ShapeError');
    t.end();
  });

  test(`semantics ${backend}: NaN and infinity as in PyTorch`, async (t) => {
    near(t, await mg.relu(T([NaN, -1, 2])).data(), [NaN, 0, 2], 'relu(NaN) is NaN');
    near(t, await mg.logsumexp(T([-Infinity, -Infinity])).data(), [-Infinity], 'logsumexp of all -inf is -inf');
    near(t, await mg.logsumexp(T([Infinity, 1])).data(), [Infinity], 'logsumexp with +inf is +inf');
    near(t, await mg.logsumexp(T([NaN, 1])).data(), [NaN], 'logsumexp with NaN is NaN');
    near(t, await mg.logsumexp(T([[-Infinity, -Infinity], [0, Math.log(3)]]), 1).data(), [-Infinity, Math.log(4)], 'per row');
    t.deepEqual(Array.from(await mg.argmax(T([1, NaN, 3])).data()), [1], 'argmax picks the NaN');
    t.deepEqual(Array.from(await mg.argmin(T([1, NaN, -3])).data()), [1], 'argmin picks the NaN');
    t.deepEqual(Array.from(await mg.argmax(T([NaN, 5, NaN])).data()), [0], 'argmax picks the first NaN');
    t.deepEqual(Array.from(await mg.argmax(T([Infinity, NaN])).data()), [1], 'a NaN beats +inf');
    t.deepEqual(Array.from(await mg.argmax(T([[1, 2], [NaN, 0], [3, NaN]]), 1).data()), [1, 0, 1], 'argmax per row');
    near(t, await mg.max(T([1, NaN, 3])).data(), [NaN], 'max with a NaN is NaN');
    near(t, await mg.min(T([1, NaN, 3])).data(), [NaN], 'min with a NaN is NaN');
    near(t, await mg.max(T([[1, NaN], [3, 4]]), 0).data(), [3, NaN], 'max per column');
    t.end();
  });

  test(`semantics ${backend}: variance with no degrees of freedom left is an error`, async (t) => {
    const x = T([1, 2, 4]);
    near(t, await mg.variance(x, 0, { correction: 1 }).data(), [7 / 3], 'sample variance');
    near(t, await mg.variance(x, 0, { correction: 2.5 }).data(), [(14 / 3) / 0.5], 'fractional correction');
    t.throws(() => mg.variance(x, 0, { correction: 5 }), (e: unknown) => e instanceof mg.MetagradError && /variance: correction 5 leaves no degrees of freedom.*3 element/.test((e as Error).message), 'correction 5 on 3 elements');
    t.throws(() => mg.variance(x, 0, { correction: 3 }), mg.MetagradError, 'correction = n');
    t.throws(() => mg.variance(x, 0, { correction: -1 }), mg.MetagradError, 'negative correction');
    t.end();
  });
}
