import test from 'tape';
import * as mg from '../../ts/index.js';
import { philoxBlock } from '../../ts/core/philox.js';

test('tensor: creation, shape, dtype, values', (t) => {
  const x = mg.tensor([[1, 2, 3], [4, 5, 6]]);
  t.deepEqual(x.shape, [2, 3]);
  t.equal(x.dtype, 'float32');
  t.deepEqual(Array.from(x.dataSync()), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(Array.from(mg.arange(0, 5).dataSync()), [0, 1, 2, 3, 4]);
  t.equal(mg.arange(0, 5).dtype, 'int32');
  t.deepEqual(Array.from(mg.linspace(0, 1, 5).dataSync()), [0, 0.25, 0.5, 0.75, 1]);
  t.deepEqual(Array.from(mg.eye(2, 3).dataSync()), [1, 0, 0, 0, 1, 0]);
  t.deepEqual(Array.from(mg.full([2], 7, { dtype: 'int32' }).dataSync()), [7, 7]);
  t.equal(mg.zeros([2, 2], { dtype: 'float64' }).dtype, 'float64');
  t.throws(() => mg.tensor([[1, 2], [3]]), mg.ShapeError, 'ragged arrays are rejected');
  t.throws(() => mg.tensor([1, 2, 3], [2, 2]), mg.ShapeError, 'value count must match shape');
  t.throws(() => mg.tensor([1.5], { dtype: 'int32' }), mg.DTypeError, 'non-integers in int32');
  t.end();
});

test('tensor: toString is readable', (t) => {
  const s = mg.tensor([[1, 2], [3, 4]]).toString();
  t.ok(s.includes('float32') && s.includes('[2, 2]') && s.includes('[[1., 2.]'), s);
  t.end();
});

test('tensor: async data() and item()', async (t) => {
  const x = mg.tensor([3.5]);
  t.equal(await x.item(), 3.5);
  t.deepEqual(Array.from(await mg.transpose(mg.tensor([[1, 2], [3, 4]])).data()), [1, 3, 2, 4], 'strided views read in logical order');
  try {
    await mg.tensor([1, 2]).item();
    t.fail('item() of two values should throw');
  } catch (e) {
    t.ok(e instanceof mg.ShapeError, 'item() of two values is a ShapeError');
  }
});

test('tensor: dispose and use after dispose', (t) => {
  const x = mg.tensor([1, 2, 3]);
  x.dispose();
  t.ok(x.isDisposed);
  t.throws(() => mg.exp(x), /exp: tensor #\d+ float32 \[3\] was used after dispose/, 'names the op and the shape');
  t.throws(() => x.dataSync(), mg.DisposedError);
  x.dispose();
  t.pass('double dispose is harmless');
  t.end();
});

test('scope frees everything but the result', (t) => {
  const base = mg.liveTensorCount();
  const kept = mg.scope(() => {
    const a = mg.tensor([1, 2, 3]);
    const b = mg.mul(a, 2);
    const c = mg.add(b, 1);
    return { c };
  });
  t.equal(mg.liveTensorCount(), base + 1, 'only the returned tensor survives');
  t.deepEqual(Array.from(kept.c.dataSync()), [3, 5, 7]);
  kept.c.dispose();
  t.equal(mg.liveTensorCount(), base, 'back to baseline');
  t.end();
});

test('scope keeps what a recorded gradient needs, and grad releases it', (t) => {
  const base = mg.liveTensorCount();
  const w = mg.tensor([1, 2, 3], { requiresGrad: true });
  const loss = mg.scope(() => mg.sum(mg.exp(mg.mul(w, w))));
  const [g] = mg.gradients(loss, [w]);
  t.ok(g!.dataSync()[0]! > 0);
  loss.dispose();
  g!.dispose();
  w.dispose();
  t.equal(mg.liveTensorCount(), base, 'intermediates freed once the graph is released');
  t.end();
});

test('Rng: deterministic, counter-based, split streams differ', (t) => {
  const a = Array.from(new mg.Rng(42).uniform([1000]).dataSync());
  const b = new mg.Rng(42).uniform([1000]).dataSync();
  t.deepEqual(a, Array.from(b), 'same seed, same values');
  const c = new mg.Rng(43).uniform([1000]).dataSync();
  t.notDeepEqual(a, Array.from(c));
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  t.ok(Math.abs(mean - 0.5) < 0.05, `uniform mean ${mean}`);
  const n = Array.from(new mg.Rng(1).normal([20000]).dataSync());
  const m = n.reduce((s, v) => s + v, 0) / n.length;
  const v = n.reduce((s, x) => s + (x - m) ** 2, 0) / n.length;
  t.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `normal mean ${m}, var ${v}`);
  const p = Array.from(new mg.Rng(5).permutation(10).dataSync()).sort((x, y) => x - y);
  t.deepEqual(p, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'permutation');
  const ints = Array.from(new mg.Rng(3).integers([1000], -2, 3).dataSync());
  t.ok(ints.every((x) => x >= -2 && x < 3), 'integers in range');
  const r = new mg.Rng(9);
  const s1 = r.split(), s2 = r.split();
  t.notEqual(s1.nextUint32(), s2.nextUint32(), 'split streams differ');
  t.end();
});

test('Rng: Philox4x32-10 matches the published known-answer vectors', (t) => {
  // Random123 kat_vectors: philox4x32_10 with zero counter and key, and with all-ones.
  const out = [0, 0, 0, 0];
  philoxBlock(0, 0, 0, 0, 0, 0, out);
  t.deepEqual(out.map((x) => x >>> 0), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  philoxBlock(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
  t.deepEqual(out.map((x) => x >>> 0), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
  t.end();
});
