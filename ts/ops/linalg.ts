// Linear algebra for symmetric positive-definite systems: cholesky, triangularSolve and
// solve, batched over leading dims (broadcast as in matmul). Each forward is one or two
// kernels; each vjp is written with these same ops and matmul (DESIGN.md rule 2), so the
// backward pass is differentiable again (gradgradcheck, second-order meta-learning through
// closed-form heads such as R2D2's ridge regression).
//
// cholesky and solve read the symmetric part (A + Aᵀ)/2 of A: for a symmetric A that is A,
// and it makes both true functions of every entry, with the symmetric gradients PyTorch gives.

import { record } from '../tensor/tape.js';
import { LinAlgError, ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, numel } from '../core/shape.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, mul, neg } from './elementwise.js';
import { matmul, matView } from './matmul.js';
import { sumTo } from './reduce.js';
import { contiguous, expandDims, squeeze, transpose } from './shape-ops.js';
import { checkFloat, checkSameBackend, checkSameDType, checkTensor, wrap, opScope } from './util.js';

function checkSquare(op: string, a: Tensor, what: string): number {
  if (a.rank < 2 || a.shape[a.rank - 1] !== a.shape[a.rank - 2]) {
    throw new ShapeError(`${op}: ${what} must be a (batch of) square matrices [..., n, n], got ${fmtShape(a.shape)}`);
  }
  return a.shape[a.rank - 1]!;
}

/** The right-hand side's batch dims broadcast against the matrix's; its rows must match n. */
function rhsShape(op: string, a: Tensor, b: Tensor, n: number): number[] {
  if (b.rank < 2 || b.shape[b.rank - 2] !== n) {
    throw new ShapeError(`${op}: the right-hand side must be [..., ${n}, m] (or [${n}]) for a matrix ${fmtShape(a.shape)}, got ${fmtShape(b.shape)}`);
  }
  return [...broadcastShapes(`${op} (batch dims)`, a.shape.slice(0, -2), b.shape.slice(0, -2)), n, b.shape[b.rank - 1]!];
}

/** The checks of a system M X = B (M square, same backend and float dtype); returns n. */
function checkSystem(op: string, m: Tensor, b: Tensor, what: string): number {
  checkTensor(m, op, what);
  checkTensor(b, op, 'B');
  checkSameBackend(op, m, b);
  checkSameDType(op, m, b);
  checkFloat(op, m, b);
  return checkSquare(op, m, what);
}

/** (A + Aᵀ) / 2 */
function symmetricPart(a: Tensor): Tensor {
  return mul(add(a, transpose(a)), 0.5);
}

/** A constant n×n mask (1 on the kept triangle, `diag` on the diagonal) in x's dtype and backend. */
function triangleMask(x: Tensor, n: number, lower: boolean, diag: number): Tensor {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = i === j ? diag : (lower ? i > j : i < j) ? 1 : 0;
  return tensor(m, [n, n], { dtype: x.dtype, backend: x.backend });
}

/** Lower factors of the (symmetric parts of the) matrices; throws LinAlgError where the backend reads synchronously. */
function factor(op: string, s: Tensor, batchShape: readonly number[], n: number): Tensor {
  const { factor: f, info } = s.backend.cholesky(matView(s, batchShape), numel(batchShape), n, s.dtype);
  const out = wrap(f, [...batchShape, n, n], s);
  const infoT = wrap(info, [numel(batchShape)], s);
  // WebGPU cannot read synchronously: there a failed matrix's factor is all NaN instead.
  if (s.backend.readSync && infoT.size > 0) {
    const codes = infoT.dataSync();
    const bad = codes.findIndex((c) => c !== 0);
    if (bad >= 0) {
      const where = batchShape.length ? `matrix ${bad} (flat) of the batch ${fmtShape(batchShape)}` : 'the matrix';
      throw new LinAlgError(
        `${op}: ${where} of ${fmtShape([...batchShape, n, n])} is not positive-definite: its leading minor of order ${codes[bad]} is not positive`,
      );
    }
  }
  return out;
}

/**
 * The lower Cholesky factor L of a symmetric positive-definite A [..., n, n]: L Lᵀ = A.
 * Throws LinAlgError when a matrix is not positive-definite (on WebGPU its factor is NaN).
 */
export function cholesky(a: Tensor): Tensor {
  return opScope(() => {
    checkTensor(a, 'cholesky');
    checkFloat('cholesky', a);
    const n = checkSquare('cholesky', a, 'A');
    const s = contiguous(symmetricPart(a));
    const out = factor('cholesky', s, a.shape.slice(0, -2), n);
    // Murray (2016): Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹), Φ = the lower triangle with the diagonal halved
    return record(out, 'cholesky', [a], (g, l) => {
      const p = mul(matmul(transpose(l), g), triangleMask(l, n, true, 0.5));
      const left = triangularSolve(transpose(l), p, { lower: false });
      const both = transpose(triangularSolve(transpose(l), transpose(left), { lower: false }));
      return [symmetricPart(both)];
    });
  });
}

export interface TriangularSolveOptions {
  /** read T's lower triangle (default) or its upper one; the diagonal is always read */
  lower?: boolean;
}

/** X = T⁻¹ B for triangular T [..., n, n] and B [..., n, m] (or [n]); only T's lower (or upper) triangle is read. */
export function triangularSolve(t: Tensor, b: Tensor, opts: TriangularSolveOptions = {}): Tensor {
  return opScope(() => {
    const n = checkSystem('triangularSolve', t, b, 'T');
    const lower = opts.lower ?? true;
    if (b.rank === 1) return squeeze(triangularSolve(t, expandDims(b, 1), opts), [-1]);
    const shape = rhsShape('triangularSolve', t, b, n);
    const batchShape = shape.slice(0, -2), m = shape[shape.length - 1]!;
    const storage = t.backend.triangularSolve(matView(t, batchShape), matView(b, batchShape), { batch: numel(batchShape), n, m }, lower, t.dtype);
    const out = wrap(storage, shape, t);
    const tShape = t.shape, bShape = b.shape;
    // B̄ = T⁻ᵀ X̄ (a solve with the other triangle); T̄ = −B̄ Xᵀ on the triangle that was read
    return record(out, 'triangularSolve', [t, b], (g, x, [ti, bi]) => {
      const gb = triangularSolve(transpose(ti!), g, { lower: !lower });
      return [
        ti!.requiresGrad ? sumTo(neg(mul(matmul(gb, transpose(x)), triangleMask(x, n, lower, 1))), tShape) : null,
        bi!.requiresGrad ? sumTo(gb, bShape) : null,
      ];
    });
  });
}

/**
 * X = A⁻¹ B for symmetric positive-definite A [..., n, n] and B [..., n, m] (or [n]), by one
 * Cholesky factorization and two triangular solves. Throws LinAlgError when A is not
 * positive-definite (on WebGPU the result is NaN instead).
 */
export function solve(a: Tensor, b: Tensor): Tensor {
  return opScope(() => {
    const n = checkSystem('solve', a, b, 'A');
    if (b.rank === 1) return squeeze(solve(a, expandDims(b, 1)), [-1]);
    const shape = rhsShape('solve', a, b, n);
    const batchShape = shape.slice(0, -2), m = shape[shape.length - 1]!;
    const s = contiguous(symmetricPart(a));
    const l = factor('solve', s, s.shape.slice(0, -2), n);
    const dims = { batch: numel(batchShape), n, m };
    const y = wrap(a.backend.triangularSolve(matView(l, batchShape), matView(b, batchShape), dims, true, a.dtype), shape, a);
    const lt = transpose(l);
    const out = wrap(a.backend.triangularSolve(matView(lt, batchShape), matView(y, batchShape), dims, false, a.dtype), shape, a);
    const aShape = a.shape, bShape = b.shape;
    // B̄ = A⁻¹ X̄ (A is symmetric); Ā = −sym(B̄ Xᵀ)
    return record(out, 'solve', [a, b], (g, x, [ai, bi]) => {
      const gb = solve(ai!, g);
      return [ai!.requiresGrad ? sumTo(neg(symmetricPart(matmul(gb, transpose(x)))), aShape) : null, bi!.requiresGrad ? sumTo(gb, bShape) : null];
    });
  });
}
