import test from 'tape';
import * as mg from '../../ts/index.js';

const f64 = (v: number[] | number, shape?: number[]) => mg.tensor(v as number[], shape ?? (Array.isArray(v) ? [v.length] : []), { dtype: 'float64' });
const vals = (x: mg.Tensor) => Array.from(x.dataSync());
const close = (t: any, a: number[], b: number[], tol: number, msg: string) =>
  t.ok(a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!))), `${msg}: ${a.map((v) => v.toPrecision(6))} vs ${b.map((v) => v.toPrecision(6))}`);

test('grad of grad, and third derivatives of scalar functions', (t) => {
  const x = f64(0.7);
  const f = (x: mg.Tensor) => mg.mul(mg.sin(x), mg.mul(x, x)); // x² sin x
  const d1 = mg.grad(f);
  const d2 = mg.grad((x: mg.Tensor) => d1(x));
  const d3 = mg.grad((x: mg.Tensor) => d2(x));
  const s = Math.sin(0.7), c = Math.cos(0.7), v = 0.7;
  close(t, vals(d1(x)), [2 * v * s + v * v * c], 1e-12, "f'");
  close(t, vals(d2(x)), [2 * s + 4 * v * c - v * v * s], 1e-12, "f''");
  close(t, vals(d3(x)), [6 * c - 6 * v * s - v * v * c], 1e-12, "f'''");
  t.end();
});

test('no perturbation confusion: d/dx [x · d/dy (x·y)] = 2x, and d/dx [x · d/dy (x + y)] = 1', (t) => {
  const x0 = f64(1.5);
  const c = f64(0.3);
  const g1 = mg.grad((x: mg.Tensor) => mg.mul(x, mg.grad((y: mg.Tensor) => mg.mul(x, y))(c)))(x0);
  close(t, vals(g1), [3.0], 1e-12, 'x·y');
  const g2 = mg.grad((x: mg.Tensor) => mg.mul(x, mg.grad((y: mg.Tensor) => mg.add(x, y))(c)))(x0);
  close(t, vals(g2), [1.0], 1e-12, 'x+y (the classic confusion gives 2)');
  t.end();
});

test('gradients with respect to tensors that are themselves gradients', (t) => {
  const x = f64([0.5, -1.0, 2.0]);
  x.requiresGrad = true;
  const y = mg.sum(mg.mul(mg.mul(x, x), x)); // sum x³
  const [g] = mg.gradients(y, [x], { createGraph: true }); // 3x²
  const z = mg.sum(mg.mul(g!, g!)); // sum 9x⁴
  const [dzdg] = mg.gradients(z, [g!], { retainGraph: true }); // 2g = 6x²
  close(t, vals(dzdg!), [1.5, 6, 24], 1e-12, 'd z / d g');
  const [dzdx] = mg.gradients(z, [x]); // 36x³
  close(t, vals(dzdx!), [4.5, -36, 288], 1e-12, 'd z / d x through the gradient');
  t.end();
});

test('hvp equals the analytic Hessian-vector product on a quadratic form, and finite differences', (t) => {
  const A = f64([2, 1, 0, 1, 3, 1, 0, 1, 4], [3, 3]);
  const f = (x: mg.Tensor) => mg.mul(mg.sum(mg.mul(x, mg.matmul(A, x))), 0.5); // ½ xᵀAx, Hessian (A+Aᵀ)/2 = A
  const x = f64([0.1, -0.2, 0.3]);
  const v = f64([1, 2, -1]);
  close(t, vals(mg.hvp(f, x, v)), [4, 6, -2], 1e-12, 'H v = A v');
  // a non-quadratic function: compare with finite differences of the gradient
  const g = (x: mg.Tensor) => mg.sum(mg.mul(mg.exp(mg.mul(x, 0.5)), mg.sin(x)));
  const hv = vals(mg.hvp(g, x, v));
  const eps = 1e-6;
  const grad = mg.grad(g);
  const gp = vals(grad(mg.add(x, mg.mul(v, eps)))), gm = vals(grad(mg.sub(x, mg.mul(v, eps))));
  close(t, hv, gp.map((p, i) => (p - gm[i]!) / (2 * eps)), 1e-7, 'H v = finite differences of the gradient');
  t.end();
});

test('hvp on a small MLP matches finite differences; hessian is symmetric', (t) => {
  const rng = new mg.Rng(4);
  const X = rng.normal([6, 2], 0, 1, { dtype: 'float64' });
  const Y = rng.normal([6, 1], 0, 1, { dtype: 'float64' });
  const shapes = [[2, 3], [3], [3, 1]];
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const loss = (theta: mg.Tensor) => {
    const [w1, b1, w2] = mg.split(theta, sizes).map((p, i) => mg.reshape(p, shapes[i]!));
    return mg.mse(mg.matmul(mg.tanh(mg.add(mg.matmul(X, w1!), b1!)), w2!), Y);
  };
  const theta = rng.normal([12], 0, 0.7, { dtype: 'float64' });
  const v = rng.normal([12], 0, 1, { dtype: 'float64' });
  const hv = vals(mg.hvp(loss, theta, v));
  const eps = 1e-6, grad = mg.grad(loss);
  const gp = vals(grad(mg.add(theta, mg.mul(v, eps)))), gm = vals(grad(mg.sub(theta, mg.mul(v, eps))));
  close(t, hv, gp.map((p, i) => (p - gm[i]!) / (2 * eps)), 1e-6, 'MLP H v');
  const H = mg.hessian(loss, theta);
  t.deepEqual(H.shape, [12, 12]);
  const h = vals(H);
  let asym = 0;
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) asym = Math.max(asym, Math.abs(h[i * 12 + j]! - h[j * 12 + i]!));
  t.ok(asym < 1e-12, `symmetric (max asymmetry ${asym.toExponential(2)})`);
  const Hv = vals(mg.matmul(H, v));
  close(t, Hv, hv, 1e-10, 'hessian · v = hvp');
  t.end();
});

test('jvp (forward mode by double vjp) equals J·v', (t) => {
  const x = f64([0.3, -0.5]);
  const f = (x: mg.Tensor) => mg.stack([mg.mul(mg.sum(mg.square(x)), 2), mg.reshape(mg.mul(mg.slice(x, [0], [1]), mg.slice(x, [1], [1])), [])]);
  const [y, jv] = mg.jvp(f, [x], [f64([1, 3])]);
  close(t, vals(y), [0.68, -0.15], 1e-12, 'primal out');
  // J = [[4x0, 4x1], [x1, x0]] ; J·[1,3] = [4·0.3 + 12·(-0.5), -0.5 + 0.9]
  close(t, vals(jv), [1.2 - 6, 0.4], 1e-12, 'tangent out');
  t.end();
});

test('vjp returns the pullback for non-scalar outputs', (t) => {
  const x = f64([1, 2, 3]);
  const [y, back] = mg.vjp((x: mg.Tensor) => mg.mul(x, x), x);
  close(t, vals(y), [1, 4, 9], 0, 'out');
  close(t, vals(back(f64([1, 1, 2]))[0]!), [2, 4, 12], 1e-12, 'pullback');
  t.end();
});

test('valueAndGrad works on parameter trees and argnums', (t) => {
  type PT = { a: mg.Tensor; inner: { b: mg.Tensor } };
  const p: PT = { a: f64(2), inner: { b: f64([1, 2]) } };
  const [v, g] = mg.valueAndGrad((p: PT) => mg.add(mg.mul(p.a, p.a), mg.sum(mg.mul(p.inner.b, 3))))(p);
  t.equal(v.itemSync(), 4 + 9);
  close(t, vals(g.a), [4], 0, 'd/da');
  close(t, vals(g.inner.b), [3, 3], 0, 'd/db');
  const [, gs] = mg.valueAndGrad((x: mg.Tensor, y: mg.Tensor) => mg.sum(mg.mul(x, y)), [0, 1])(f64([1, 2]), f64([3, 4]));
  close(t, vals(gs[0]), [3, 4], 0, 'argnum 0');
  close(t, vals(gs[1]), [1, 2], 0, 'argnum 1');
  t.end();
});

test('noGrad and detach cut the tape', (t) => {
  const x = f64([1, 2]);
  const g = mg.grad((x: mg.Tensor) => mg.add(mg.sum(mg.mul(x, mg.detach(x))), mg.noGrad(() => mg.sum(mg.mul(x, x)))))(x);
  close(t, vals(g), [1, 2], 0, 'only the live factor contributes');
  t.end();
});

test('grad passes non-differentiated arguments (numbers, data objects) through', (t) => {
  const f = (w: mg.Tensor, data: { x: mg.Tensor }, scale: number) => mg.mul(mg.sum(mg.mul(w, data.x)), scale);
  const g = mg.grad(f)(f64([1, 2]), { x: f64([3, 4]) }, 2);
  close(t, vals(g), [6, 8], 0, 'd/dw');
  t.end();
});
