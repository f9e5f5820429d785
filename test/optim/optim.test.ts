// Optimizers against hand-computed updates; clipping; schedules; state as a tree.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { adam, adamw, clipByGlobalNorm, clipGradNorm, rmsprop, schedules, sgd } from '../../ts/optim/index.js';

const vals = (x: mg.Tensor) => Array.from(x.dataSync());
const close = (a: number[], b: number[], tol = 1e-5) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol);

test('optim: sgd, momentum, nesterov, weight decay', (t) => {
  const p = { w: mg.tensor([1, -2]) };
  const g = { w: mg.tensor([0.5, 1]) };
  const plain = sgd({ lr: 0.1 });
  const r = plain.update(p, g, plain.init(p));
  t.ok(close(vals(r.params.w), [0.95, -2.1]), 'p - lr g');
  t.equal(vals(p.w)[0], 1, 'old params untouched');

  const mom = sgd({ lr: 0.1, momentum: 0.9 });
  let s = mom.init(p);
  const r1 = mom.update(p, g, s);
  const r2 = mom.update(r1.params, g, r1.state);
  // buf1 = g, buf2 = 0.9 g + g = 1.9 g; p2 = p - 0.1 g - 0.19 g
  t.ok(close(vals(r2.params.w), [1 - 0.29 * 0.5, -2 - 0.29]), 'heavy-ball momentum');
  t.equal((r2.state as { step: mg.Tensor }).step.itemSync(), 2, 'step counter in state');

  const nes = sgd({ lr: 0.1, momentum: 0.9, nesterov: true });
  s = nes.init(p);
  const n1 = nes.update(p, g, s);
  // buf = g; d = g + 0.9 g
  t.ok(close(vals(n1.params.w), [1 - 0.19 * 0.5, -2 - 0.19]), 'nesterov');

  const wd = sgd({ lr: 0.1, weightDecay: 0.5 });
  const w1 = wd.update(p, g, wd.init(p));
  t.ok(close(vals(w1.params.w), [1 - 0.1 * (0.5 + 0.5), -2 - 0.1 * (1 - 1)]), 'L2 weight decay');
  t.throws(() => plain.update(p, { v: mg.tensor([1, 2]) } as never, plain.init(p)), mg.ShapeError, 'mismatched trees are a ShapeError');
  t.end();
});

test('optim: adam and adamw', (t) => {
  const p = { a: mg.tensor([1, 2]), b: [mg.tensor([[3]])] };
  const g = { a: mg.tensor([0.1, -4]), b: [mg.tensor([[0]])] };
  const o = adam({ lr: 0.01 });
  const r = o.update(p, g, o.init(p));
  // first step: m̂ = g, v̂ = g², update = g/(|g|+eps) ≈ sign(g)
  t.ok(close(vals(r.params.a), [0.99, 2.01], 1e-6), 'first Adam step moves by lr·sign(g)');
  t.ok(close(vals(r.params.b[0]!), [3]), 'zero gradient, no move');
  const st = r.state as unknown as { m: typeof p; v: typeof p };
  t.ok(close(vals(st.m.a), [0.01, -0.4]) && close(vals(st.v.a), [0.00001, 0.016], 1e-7), 'moments');
  // a second step by hand
  const m2 = [0.9 * 0.01 + 0.1 * 0.1, 0.9 * -0.4 + 0.1 * -4];
  const v2 = [0.999 * 0.00001 + 0.001 * 0.01, 0.999 * 0.016 + 0.001 * 16];
  const c1 = 1 - 0.9 ** 2, c2 = 1 - 0.999 ** 2;
  const want = [0.99, 2.01].map((x, i) => x - (0.01 * (m2[i]! / c1)) / (Math.sqrt(v2[i]! / c2) + 1e-8));
  const r2 = o.update(r.params, g, r.state);
  t.ok(close(vals(r2.params.a), want, 1e-6), 'second Adam step with bias correction');

  const aw = adamw({ lr: 0.01, weightDecay: 0.1 });
  const z = { a: mg.tensor([0, 0]), b: [mg.tensor([[0]])] };
  const w = aw.update(p, z, aw.init(p));
  t.ok(close(vals(w.params.a), [1 - 0.001, 2 - 0.002], 1e-6), 'AdamW decays decoupled from the gradient');
  const al2 = adam({ lr: 0.01, weightDecay: 0.1 });
  const l2 = al2.update(p, z, al2.init(p));
  t.ok(close(vals(l2.params.a), [0.99, 1.99], 1e-6), 'Adam L2 decay goes through the moments');
  t.end();
});

test('optim: clipByGlobalNorm scales in tensors and returns the norm before clipping (metaStep clipNorm uses it)', (t) => {
  const g = { a: mg.tensor([3, 0]), b: mg.tensor([4]) };
  const r = clipByGlobalNorm(g, 1);
  t.ok(Math.abs(r.norm!.itemSync() - 5) < 1e-6, 'norm 5');
  t.ok(Math.abs(r.grads.a.dataSync()[0]! - 0.6) < 1e-5 && Math.abs(r.grads.b.dataSync()[0]! - 0.8) < 1e-5, 'scaled to norm 1');
  t.deepEqual(Array.from(clipByGlobalNorm(g, 10).grads.b.dataSync()), [4], 'under the bound: unchanged');
  t.throws(() => clipByGlobalNorm(g, 0), mg.ValueError, 'maxNorm must be positive (ValueError)');
  t.end();
});

test('optim: clipGradNorm and schedules', (t) => {
  const g = { a: mg.tensor([3, 0]), b: mg.tensor([[4]]) };
  const c = clipGradNorm(g, 1);
  t.ok(Math.abs(c.norm - 5) < 1e-6, 'global norm');
  t.ok(close(vals(c.grads.a), [0.6, 0], 1e-5) && close(vals(c.grads.b), [0.8], 1e-5), 'scaled to maxNorm');
  const n = clipGradNorm(g, 10);
  t.ok(close(vals(n.grads.a), [3, 0], 1e-5), 'below maxNorm: unchanged');
  t.equal(schedules.constant(0.1)(100), 0.1);
  t.ok(Math.abs(schedules.step(1, 10, 0.5)(25) - 0.25) < 1e-12, 'step decay');
  const cos = schedules.cosine(1, 100, 0.1);
  t.ok(cos(0) === 1 && Math.abs(cos(50) - 0.55) < 1e-12 && Math.abs(cos(200) - 0.1) < 1e-12, 'cosine');
  const wu = schedules.warmup(schedules.constant(1), 4);
  t.deepEqual([0, 1, 2, 3, 10].map(wu), [0.25, 0.5, 0.75, 1, 1], 'warmup');
  const o = sgd({ lr: schedules.step(1, 1, 0.5) });
  const p = { w: mg.tensor([0]) }, gr = { w: mg.tensor([1]) };
  const r1 = o.update(p, gr, o.init(p));
  const r2 = o.update(r1.params, gr, r1.state);
  t.ok(close(vals(r2.params.w), [-1.5]), 'schedule read at the step in state');
  t.end();
});

test('optim: rmsprop, centered, momentum, weight decay', (t) => {
  const p = { w: mg.tensor([1, -2]) };
  const g = { w: mg.tensor([0.5, 1]) };
  const o = rmsprop({ lr: 0.01 });
  const r1 = o.update(p, g, o.init(p));
  // v = 0.01 g²; step = g / sqrt(0.01 g²) = 10·sign(g)
  t.ok(close(vals(r1.params.w), [1 - 0.1, -2 - 0.1], 1e-5), 'first step moves by lr·g/sqrt((1−α)g²)');
  const r2 = o.update(r1.params, g, r1.state);
  const v2 = (x: number) => 0.99 * 0.01 * x * x + 0.01 * x * x;
  t.ok(close(vals(r2.params.w), [0.9 - (0.01 * 0.5) / Math.sqrt(v2(0.5)), -2.1 - 0.01 / Math.sqrt(v2(1))], 1e-5), 'second step by hand');
  t.equal(vals(p.w)[0], 1, 'old params untouched');

  const c = rmsprop({ lr: 0.01, centered: true, alpha: 0.5 });
  const c1 = c.update(p, g, c.init(p));
  // v = 0.5 g², a = 0.5 g, v − a² = 0.25 g²: step = g / (0.5|g|) = 2·sign(g)
  t.ok(close(vals(c1.params.w), [1 - 0.02, -2 - 0.02], 1e-5), 'centered: normalized by the variance estimate');

  const m = rmsprop({ lr: 0.01, momentum: 0.9, alpha: 0.5 });
  const m1 = m.update(p, g, m.init(p));
  const m2 = m.update(m1.params, g, m1.state);
  // d1 = g/sqrt(0.5 g²) = √2·sign g; v2 = 0.75 g², d2 = 0.9·d1 + g/sqrt(0.75 g²)
  const d1 = Math.SQRT2, d2 = 0.9 * d1 + 1 / Math.sqrt(0.75);
  t.ok(close(vals(m2.params.w), [1 - 0.01 * (d1 + d2), -2 - 0.01 * (d1 + d2)], 1e-5), 'momentum on the normalized step');

  const wd = rmsprop({ lr: 0.01, weightDecay: 1 });
  const w1 = wd.update({ w: mg.tensor([1]) }, { w: mg.tensor([0]) }, wd.init({ w: mg.tensor([1]) }));
  t.ok(close(vals(w1.params.w), [1 - 0.1], 1e-5), 'L2 weight decay enters the gradient');

  t.throws(() => rmsprop({ lr: 0.01, alpha: 1 }), mg.ValueError, 'alpha = 1 is a ValueError');
  t.throws(() => rmsprop(undefined as never), (e: unknown) => e instanceof mg.ValueError && /^rmsprop: options must be an object/.test((e as Error).message), 'rmsprop() without options');
  t.throws(() => m.update(p, g, o.init(p)), /no 'momentum' tree/, 'state from another configuration is rejected');
  t.throws(() => o.update(p, { v: mg.tensor([1, 2]) } as never, o.init(p)), mg.ShapeError, 'mismatched trees are a ShapeError');
  t.end();
});
