// cholesky, triangularSolve and solve: forward values checked by reconstruction on every
// backend (L Lᵀ = A with L lower and a positive diagonal; T X = B; A X = B), the errors for
// matrices that are not positive-definite and for bad shapes, NaN and empty inputs.
// Derivatives (first and second order) and backend parity run from the op table
// (test/helpers/op-cases.ts) in gradcheck-ops and parity.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { probeBackends } from '../helpers/backends.js';

function randomSpd(rng: mg.Rng, batch: number, n: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const x = Array.from({ length: n * n }, () => rng.nextNormal());
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += (x[i * n + k]! * x[j * n + k]!) / n;
      out.push(s);
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const probes = await probeBackends();
const backends: { name: string; dtype: 'float32' | 'float64'; tol: number }[] = [
  { name: 'js', dtype: 'float64', tol: 1e-10 },
  { name: 'js', dtype: 'float32', tol: 2e-4 },
  ...probes.filter((p) => p.available).map((p) => ({ name: p.name, dtype: 'float32' as const, tol: 2e-4 })),
  ...(probes.some((p) => p.name === 'native' && p.available) ? [{ name: 'native', dtype: 'float64' as const, tol: 1e-10 }] : []),
];

for (const { name, dtype, tol } of backends) {
  test(`linalg ${name} ${dtype}: cholesky reconstructs A with a lower factor and positive diagonal`, async (t) => {
    const n = 6, batch = 3;
    const vals = randomSpd(new mg.Rng(3), batch, n);
    const a = mg.tensor(vals, [batch, n, n], { dtype, backend: name });
    const l = mg.cholesky(a);
    const lv = await l.data();
    let upper = 0, minDiag = Infinity;
    for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const v = lv[(b * n + i) * n + j]!;
      if (j > i) upper = Math.max(upper, Math.abs(v));
      if (i === j) minDiag = Math.min(minDiag, v);
    }
    t.equal(upper, 0, 'zeros above the diagonal');
    t.ok(minDiag > 0, `positive diagonal (min ${minDiag})`);
    const back = await mg.matmul(l, mg.transpose(l)).data();
    const err = maxAbsDiff(back, vals);
    t.ok(err < tol * 10, `L Lᵀ = A (max error ${err.toExponential(2)})`);
    mg.disposeAll([a, l]);
    t.end();
  });

  test(`linalg ${name} ${dtype}: triangularSolve and solve satisfy their systems`, async (t) => {
    const n = 5, m = 3, batch = 2;
    const rng = new mg.Rng(8);
    const a = mg.tensor(randomSpd(rng, batch, n), [batch, n, n], { dtype, backend: name });
    const bVals = Array.from({ length: batch * n * m }, () => rng.nextNormal());
    const b = mg.tensor(bVals, [batch, n, m], { dtype, backend: name });
    const l = mg.cholesky(a);
    for (const lower of [true, false]) {
      const tri = lower ? l : mg.transpose(l);
      const x = mg.triangularSolve(tri, b, { lower });
      const err = maxAbsDiff(await mg.matmul(tri, x).data(), bVals);
      t.ok(err < tol * 50, `${lower ? 'lower' : 'upper'}: T X = B (max error ${err.toExponential(2)})`);
    }
    const x = mg.solve(a, b);
    const err = maxAbsDiff(await mg.matmul(a, x).data(), bVals);
    t.ok(err < tol * 50, `A X = B (max error ${err.toExponential(2)})`);
    // a vector right-hand side broadcast over the batch
    const v = mg.tensor(bVals.slice(0, n), [n], { dtype, backend: name });
    const xv = mg.solve(a, v);
    t.deepEqual(xv.shape, [batch, n], 'vector rhs gives [batch, n]');
    const ev = maxAbsDiff(await mg.squeeze(mg.matmul(a, mg.expandDims(xv, -1)), [-1]).data(), [...bVals.slice(0, n), ...bVals.slice(0, n)]);
    t.ok(ev < tol * 50, `vector rhs solved (max error ${ev.toExponential(2)})`);
    t.end();
  });

  test(`linalg ${name} ${dtype}: NaN propagates, empty matrices work`, async (t) => {
    const a = mg.tensor([4, 2, 2, NaN], [2, 2], { dtype, backend: name });
    const l = await mg.cholesky(a).data();
    t.equal(l[0], 2, 'the first pivot is still exact');
    t.ok(Number.isNaN(l[3]!), 'NaN reaches the factor');
    t.deepEqual(mg.cholesky(mg.zeros([3, 0, 0], { dtype, backend: name })).shape, [3, 0, 0], 'a batch of 0×0 matrices');
    t.deepEqual(mg.solve(mg.zeros([0, 0], { dtype, backend: name }), mg.zeros([0, 2], { dtype, backend: name })).shape, [0, 2], 'an empty system');
    t.end();
  });
}

test('linalg errors: a matrix that is not positive-definite names the op, the matrix and the minor', (t) => {
  const bad = mg.tensor([[[2, 0], [0, 1]], [[1, 2], [2, 1]]], { dtype: 'float64' });
  const isLinAlg = (re: RegExp) => (e: unknown) => e instanceof mg.LinAlgError && re.test((e as Error).message);
  t.throws(() => mg.cholesky(bad), isLinAlg(/cholesky: matrix 1 \(flat\) of the batch \[2\] of \[2, 2, 2\] is not positive-definite: its leading minor of order 2 is not positive/));
  t.throws(() => mg.solve(bad, mg.ones([2, 1], { dtype: 'float64' })), isLinAlg(/solve: matrix 1 .* not positive-definite/));
  t.throws(() => mg.cholesky(mg.tensor([[-1, 0], [0, 1]])), isLinAlg(/cholesky: the matrix of \[2, 2\] is not positive-definite: its leading minor of order 1/));
  t.end();
});

for (const p of probes.filter((p) => p.available && !mg.getBackend(p.name).readSync)) {
  test(`linalg ${p.name}: without synchronous reads a matrix that is not positive-definite factors to NaN`, async (t) => {
    const l = await mg.cholesky(mg.tensor([[[4, 0], [0, 1]], [[1, 2], [2, 1]]], { backend: p.name })).data();
    t.deepEqual(Array.from(l.slice(0, 4)), [2, 0, 0, 1], 'the positive-definite matrix factors');
    t.ok(Array.from(l.slice(4)).every(Number.isNaN), 'the other is all NaN');
    t.end();
  });
}

test('linalg errors: shapes and dtypes', (t) => {
  const z = (s: number[], dtype: mg.DType = 'float32') => mg.zeros(s, { dtype });
  t.throws(() => mg.cholesky(z([2, 3])), (e: unknown) => e instanceof mg.ShapeError && /cholesky: A must be a \(batch of\) square matrices \[..., n, n\], got \[2, 3\]/.test((e as Error).message));
  t.throws(() => mg.cholesky(z([3])), /cholesky: A must be .* got \[3\]/);
  t.throws(() => mg.solve(mg.eye(3), z([2, 1])), (e: unknown) => e instanceof mg.ShapeError && /solve: the right-hand side must be \[..., 3, m\] \(or \[3\]\) for a matrix \[3, 3\], got \[2, 1\]/.test((e as Error).message));
  t.throws(() => mg.solve(z([2, 3, 3]), z([4, 3, 1])), /solve \(batch dims\)/);
  t.throws(() => mg.triangularSolve(z([3, 4]), z([3, 1])), /triangularSolve: T must be/);
  t.throws(() => mg.solve(mg.eye(2), z([2], 'float64')), (e: unknown) => e instanceof mg.DTypeError && /solve: dtypes differ/.test((e as Error).message));
  t.throws(() => mg.cholesky(z([2, 2], 'int32')), mg.DTypeError);
  t.end();
});
