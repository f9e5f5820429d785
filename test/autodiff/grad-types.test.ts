// grad()'s types: a Tensor in gives a Tensor out, a parameter tree gives the same tree type,
// argnums pick the arguments' own types. The @ts-expect-error lines fail the build (and so
// the suite) if the typing ever goes back to `any`.
import test from 'tape';
import * as mg from '../../ts/index.js';

type Params = { w: mg.Tensor; layers: { b: mg.Tensor }[] };

test('grad types follow the argument: tensor to tensor, tree to the same tree', async (t) => {
  const x = mg.tensor([1, 2, 3]);
  const gx: mg.Tensor = mg.grad((v: mg.Tensor) => mg.sum(mg.mul(v, v)))(x);
  // @ts-expect-error a Tensor's gradient is a Tensor, not a tree
  void gx.w;
  const p: Params = { w: mg.tensor([1, 2]), layers: [{ b: mg.tensor([3]) }] };
  const gp = mg.grad((q: Params) => mg.add(mg.sum(mg.mul(q.w, q.w)), mg.sum(q.layers[0]!.b)))(p);
  t.deepEqual(Array.from(await gp.w.data()), [2, 4], 'gp.w typed and right');
  t.deepEqual(Array.from(await gp.layers[0]!.b.data()), [1], 'gp.layers[0].b typed and right');
  // @ts-expect-error the tree has no field 'v'
  void gp.v;
  const [ga, gb] = mg.grad((a: mg.Tensor, b: Params) => mg.add(mg.sum(a), mg.sum(b.w)), [0, 1])(x, p);
  const checkB: Params = gb;
  t.deepEqual([ga.shape, checkB.w.shape], [[3], [2]], 'argnums [0, 1]: a tuple of the two argument types');
  const [v, g1] = mg.valueAndGrad((a: mg.Tensor, b: Params) => mg.sum(mg.mul(a, b.w)), 1)(mg.tensor([5, 7]), p);
  t.equal(await v.item(), 19, 'valueAndGrad value');
  t.deepEqual(Array.from(await g1.w.data()), [5, 7], 'argnums 1: the second argument\'s type');
  const opt = mg.adam({ lr: 0.1 });
  const st = opt.init(p);
  t.equal(st.step.itemSync(), 0, 'optimizer state typed: state.step is a Tensor');
});
