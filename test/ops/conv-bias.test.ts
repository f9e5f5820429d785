// conv2dBias beyond the op table (test/helpers/op-cases.ts gives it gradcheck, gradgradcheck and
// parity, all through recorded backwards): on every backend, its value and its gradients from a
// backward that is not recorded (the filter and bias gradients from one kernel) equal conv2d
// plus a broadcast add, and so does a recorded backward's second derivative.
import test from 'tape';
import * as mg from '../../ts/index.js';
import type { Tensor } from '../../ts/index.js';
import { probeBackends } from '../helpers/backends.js';

test('conv2dBias: value, plain gradients and second derivative equal conv2d + a bias add on every backend', async (t) => {
  for (const p of (await probeBackends()).filter((p) => p.available || p.required)) {
    if (!p.available) {
      t.fail(`${p.name} is required but unavailable: ${p.why}`);
      continue;
    }
    const o = { dtype: p.name === 'js' ? 'float64' as const : 'float32' as const, backend: p.name };
    // [n, cIn, cOut, h, opts]: a direct-kernel layer (8+ channels, stride 1), one input channel (the
    // transposed filter gradient), and a strided grouped one (the unfolding)
    const cases: [number, number, number, number, mg.Conv2dOptions][] = [[6, 16, 16, 9, { padding: 1 }], [5, 1, 8, 12, { padding: 1 }], [3, 4, 6, 7, { stride: 2, groups: 2 }]];
    for (const [n, cIn, cOut, h, opts] of cases) {
      const { fused, ref } = mg.scope(() => {
        const rng = new mg.Rng(3);
        const x = mg.requireGrad(rng.normal([n, cIn, h, h], 0, 1, o));
        const w = mg.requireGrad(rng.normal([cOut, cIn / (opts.groups ?? 1), 3, 3], 0, 0.3, o)), b = mg.requireGrad(rng.normal([cOut], 0, 1, o));
        const r = rng.normal(mg.noGrad(() => mg.conv2d(x, w, opts)).shape.slice(), 0, 1, o);
        const run = (f: () => Tensor): Tensor[] => {
          const y = f();
          const plain = mg.gradients(mg.sum(mg.mul(mg.square(y), r)), [x, w, b]);
          const gs = mg.gradients(mg.sum(mg.mul(mg.square(f()), r)), [x, w, b], { createGraph: true });
          const hs = mg.gradients(mg.sum(mg.square(gs[1]!)), [x, w, b]);
          return [mg.detach(y), ...plain, ...hs];
        };
        const fusedT = run(() => mg.conv2dBias(x, w, b, opts));
        const refT = run(() => mg.add(mg.conv2d(x, w, opts), mg.reshape(b, [1, -1, 1, 1])));
        return { fused: fusedT, ref: refT };
      });
      const read = (zs: Tensor[]) => Promise.all(zs.map(async (z) => Array.from(await z.data())));
      const [fa, ra] = [await read(fused), await read(ref)];
      mg.disposeAll([...fused, ...ref]);
      const labels = ['y', 'dx', 'dw', 'db', 'd2x', 'd2w', 'd2b'];
      const tol = o.dtype === 'float64' ? 1e-10 : 2e-4;
      fa.forEach((a, k) => {
        const scale = Math.max(1, ...ra[k]!.map(Math.abs));
        const worst = Math.max(...a.map((v, i) => Math.abs(v - ra[k]![i]!)));
        t.ok(a.length === ra[k]!.length && worst <= tol * scale, `${p.name} n${n} ${cIn}->${cOut} @${h} ${JSON.stringify(opts)}: ${labels[k]} agrees (worst ${worst.toExponential(2)})`);
      });
    }
  }
  t.end();
});
