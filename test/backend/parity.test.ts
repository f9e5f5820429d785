// Every op of the table on every other backend against the js reference: forward values,
// gradients, and second derivatives (the gradient of <gradient, s>), float32 tolerances.
// Then the exact second-order MAML meta-gradient on each backend against js in float64.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { diffInputs, makeInputs, opCases, type OpCase } from '../helpers/op-cases.js';
import { probeBackends } from '../helpers/backends.js';
import { metaGradient } from '../helpers/maml-problem.js';

// float32 backends against a float64 reference on float32-rounded inputs
const RTOL = 2e-4, ATOL = 2e-5;

/** forward, first and second derivatives of a case, as host arrays */
async function evaluate(c: OpCase, backend: string, dtype: 'float32' | 'float64'): Promise<number[][]> {
  const wrt = diffInputs(c);
  const { tensors, reads } = mg.scope(() => {
    const xs = makeInputs(c, 21, dtype, backend).map((x) => (x.dtype === 'int32' ? x : roundTo32(x)));
    for (const i of wrt) xs[i] = mg.requireGrad(mg.detach(xs[i]!));
    const y = c.fn(...xs);
    const reads: mg.Tensor[] = [y];
    if (wrt.length > 0) {
      const r = weights(y.shape, 5, dtype, backend);
      const L = mg.sum(mg.mul(y, r));
      const gs = mg.gradients(L, wrt.map((i) => xs[i]!), { createGraph: true });
      reads.push(...gs);
      const s = gs.map((g, k) => weights(g.shape, 100 + k, dtype, backend));
      const L2 = gs.reduce<mg.Tensor | null>((acc, g, k) => {
        const term = mg.sum(mg.mul(g, s[k]!));
        return acc ? mg.add(acc, term) : term;
      }, null)!;
      if (L2.requiresGrad) reads.push(...mg.gradients(L2, wrt.map((i) => xs[i]!)));
    }
    return { tensors: reads, reads };
  });
  const out: number[][] = [];
  for (const r of reads) out.push(Array.from(await r.data()));
  mg.disposeAll(tensors);
  return out;
}

function roundTo32(x: mg.Tensor): mg.Tensor {
  // the reference sees exactly the float32 values the other backend sees
  return mg.noGrad(() => (x.dtype === 'float64' ? mg.cast(mg.cast(x, 'float32'), 'float64') : x));
}

function weights(shape: readonly number[], seed: number, dtype: 'float32' | 'float64', backend: string): mg.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new mg.Rng(seed);
  return mg.tensor(Array.from({ length: n }, () => Math.fround(rng.nextNormal())), shape.slice(), { dtype, backend });
}

function compare(a: number[], ref: number[], scale: number): { ok: boolean; worst: string } {
  let worst = -1, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(a[i]! - ref[i]!) / (ATOL * scale + RTOL * scale * Math.abs(ref[i]!));
    if (!(err <= worst) || Number.isNaN(err)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  return { ok: a.length === ref.length && worst <= 1, worst: at < 0 ? 'empty' : `[${at}] ${a[at]} vs ${ref[at]} (${worst.toFixed(2)}× tolerance)` };
}

const probes = await probeBackends();

test('parity: backends to check', (t) => {
  for (const p of probes) {
    if (p.available) t.pass(`${p.name} is available`);
    else if (p.required) t.fail(`${p.name} is required but unavailable: ${p.why}`);
    else t.comment(`skipping ${p.name}: ${p.why}`);
  }
  t.end();
});

for (const p of probes.filter((p) => p.available)) {
  for (const c of opCases) {
    test(`parity ${p.name}: ${c.name}`, async (t) => {
      const ref = await evaluate(c, 'js', 'float64');
      const got = await evaluate(c, p.name, 'float32');
      const labels = ['forward', ...diffInputs(c).map((i) => `grad input ${i}`), ...diffInputs(c).map((i) => `2nd-order input ${i}`)];
      t.equal(got.length, ref.length, 'same number of results');
      ref.forEach((r, k) => {
        const cmp = compare(got[k] ?? [], r, c.tolScale ?? 1);
        t.ok(cmp.ok, `${labels[k] ?? k}: worst ${cmp.worst}`);
      });
    });
  }

  test(`parity ${p.name}: exact second-order MAML meta-gradient`, async (t) => {
    const ref = mg.scope(() => mg.treeMap(metaGradient('float64', 'js'), (x) => x));
    const got = mg.scope(() => metaGradient('float32', p.name));
    for (const k of Object.keys(ref) as (keyof typeof ref)[]) {
      const a = Array.from(await got[k].data()), r = Array.from(await ref[k].data());
      const err = Math.max(...a.map((v, i) => Math.abs(v - r[i]!) / (1e-3 + Math.abs(r[i]!))));
      t.ok(err < 2e-3, `${k}: worst relative error ${err.toExponential(2)} against float64 js`);
    }
    mg.disposeAll([ref, got]);
  });
}
