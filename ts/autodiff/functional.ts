// The functional API over the tape: grad(f), valueAndGrad(f), vjp, jvp, hvp, hessian.
//
// Nesting: each transform traces f on fresh tensors connected to the caller's (an identity
// op when the caller is itself being differentiated), and differentiates only with respect
// to those. A transform running inside another (or on inputs that are being recorded)
// builds its backward pass on the tape (createGraph), so the outer transform sees the
// inner derivative as an ordinary function of its own inputs. Derivatives are always
// taken with respect to explicitly named tensors, so nested levels cannot confuse their
// perturbations (tested by the classic d/dx [x · d/dy (x·y)] example).

import { array, checkArgs, either, fn, instance, int } from '../core/args.js';
import { GradError, fmtShape } from '../core/errors.js';
import { tensor, zerosLike } from '../tensor/create.js';
import { scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { treeFlatten, treeUnflatten } from '../tensor/tree.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { reshape, stack } from '../ops/shape-ops.js';
import { gradients } from './backward.js';
import { detach, isGradEnabled, record, withGradEnabled } from '../tensor/tape.js';

let depth = 0;

/** The gradients for argnums N of arguments A: the arguments' own types, as a tuple. */
export type GradsAt<A extends readonly unknown[], N extends readonly number[]> = { -readonly [K in keyof N]: A[N[K] & number] };

/** A tensor to trace f on: connected to x when x is being recorded by an outer level. */
function traceInput(x: Tensor): Tensor {
  x.checkAlive('grad');
  if (x.requiresGrad && isGradEnabled()) return record(detach(x), 'trace', [x], (g) => [g]);
  const t = detach(x);
  t.requiresGrad = true;
  return t;
}

function nested(xs: readonly Tensor[]): boolean {
  return depth > 0 || (isGradEnabled() && xs.some((x) => x.requiresGrad));
}

function enter<T>(fn: () => T): T {
  depth++;
  try {
    return withGradEnabled(true, fn);
  } finally {
    depth--;
  }
}

const tensorArg = instance(Tensor, 'a Tensor');
const argnumsArg = either('an integer >= 0 or an array of them', int(0), array(int(0)));

function scalarOutput(y: unknown, who: string): Tensor {
  if (!(y instanceof Tensor)) throw new GradError(`${who}: f must return a Tensor, got ${typeof y}`);
  if (y.size !== 1) throw new GradError(`${who}: f must return a scalar, got shape ${fmtShape(y.shape)}; use vjp for non-scalar outputs`);
  return y;
}

/** The leaves of a differentiated argument: a Tensor or a tree of them (else a DTypeError naming who and the argument). */
function flattenArg(who: string, a: unknown, i: number): { names: string[]; leaves: Tensor[] } {
  try {
    return treeFlatten(a as Tensor);
  } catch (e) {
    if (e instanceof Error) e.message = `${who}: argument ${i} must be a Tensor or a tree of tensors; ${e.message}`;
    throw e;
  }
}

/**
 * valueAndGrad(f, argnums = 0)(...args) -> [f(...args), gradient(s)]. Arguments may be
 * tensors or parameter trees; gradients come back in the same structure. With an array
 * of argnums, the gradients come back as an array.
 */
export function valueAndGrad<A extends readonly any[]>(f: (...args: A) => Tensor): (...args: A) => [Tensor, A[0]];
export function valueAndGrad<A extends readonly any[], const N extends number>(f: (...args: A) => Tensor, argnums: N): (...args: A) => [Tensor, A[N]];
export function valueAndGrad<A extends readonly any[], const N extends readonly number[]>(f: (...args: A) => Tensor, argnums: N): (...args: A) => [Tensor, GradsAt<A, N>];
export function valueAndGrad<A extends readonly any[]>(f: (...args: A) => Tensor, argnums: number | readonly number[] = 0): (...args: A) => [Tensor, unknown] {
  return valueAndGradOf('valueAndGrad', f, argnums);
}

/** valueAndGrad for `who` (grad, valueAndGrad, hvp, hessian): errors name the function the user called. */
function valueAndGradOf<A extends readonly any[]>(who: string, f: (...args: A) => Tensor, argnums: number | readonly number[]): (...args: A) => [Tensor, unknown] {
  checkArgs(who, [f, argnums], { f: fn, argnums: argnumsArg });
  return (...args: A): [Tensor, unknown] => {
    const nums = typeof argnums === 'number' ? [argnums] : argnums;
    for (const n of nums) if (n < 0 || n >= args.length) throw new GradError(`${who}: argnum ${n} is out of range for ${args.length} arguments`);
    // only the differentiated arguments must be trees of tensors; others pass through untouched
    const flats = args.map((a, i) => (nums.includes(i) ? flattenArg(who, a, i) : { names: [], leaves: [] }));
    const isNested = nested(nums.flatMap((n) => flats[n]!.leaves));
    return scope(() =>
      enter(() => {
        const traced = args.map((a, i) => (nums.includes(i) ? treeUnflatten(a, flats[i]!.leaves.map(traceInput)) : a)) as unknown as A;
        const y = scalarOutput(f(...traced), who);
        const wrt = nums.flatMap((n) => treeFlatten(traced[n]!).leaves);
        const gs = gradients(y, wrt, { createGraph: isNested });
        let at = 0;
        const trees = nums.map((n) => {
          const count = flats[n]!.leaves.length;
          const tree = treeUnflatten(args[n]!, gs.slice(at, at + count));
          at += count;
          return tree;
        });
        const value = isNested ? y : detach(y);
        return [value, typeof argnums === 'number' ? trees[0] : trees] as [Tensor, unknown];
      }),
    );
  };
}

/**
 * grad(f, argnums = 0)(...args): the gradient of a scalar function, nestable to any order.
 * Typed like its argument: a Tensor in gives a Tensor, a parameter tree gives the same tree
 * type; an array of argnums gives a tuple of them.
 */
export function grad<A extends readonly any[]>(f: (...args: A) => Tensor): (...args: A) => A[0];
export function grad<A extends readonly any[], const N extends number>(f: (...args: A) => Tensor, argnums: N): (...args: A) => A[N];
export function grad<A extends readonly any[], const N extends readonly number[]>(f: (...args: A) => Tensor, argnums: N): (...args: A) => GradsAt<A, N>;
export function grad<A extends readonly any[]>(f: (...args: A) => Tensor, argnums: number | readonly number[] = 0): (...args: A) => unknown {
  return gradOf('grad', f, argnums);
}

function gradOf<A extends readonly any[]>(who: string, f: (...args: A) => Tensor, argnums: number | readonly number[]): (...args: A) => unknown {
  const vg = valueAndGradOf(who, f, argnums);
  return (...args: A): unknown => {
    const [value, g] = vg(...args);
    value.dispose();
    return g;
  };
}

/**
 * vjp(f, ...primals) -> [out, pullback]: pullback(cotangent) gives the cotangents of the
 * primals (arrays of tensors, one per primal, trees kept). The graph is kept until out is disposed.
 */
export function vjp<A extends readonly Tensor[]>(f: (...args: A) => Tensor, ...primals: A): [Tensor, (cotangent: Tensor) => Tensor[]] {
  checkArgs('vjp', [f, primals], { f: fn, primals: array(tensorArg, 'Tensors') });
  const isNested = nested(primals);
  const traced = primals.map(traceInput) as unknown as A;
  const out = enter(() => f(...traced));
  if (!(out instanceof Tensor)) throw new GradError(`vjp: f must return a Tensor, got ${typeof out}`);
  const pullback = (cot: Tensor): Tensor[] => {
    if (!(cot instanceof Tensor) || cot.rank !== out.rank || cot.shape.some((d, i) => d !== out.shape[i])) {
      throw new GradError(`vjp: cotangent must have the output's shape ${fmtShape(out.shape)}`);
    }
    return enter(() => gradients(out, traced, { gradOutputs: cot, createGraph: isNested || depth > 1, retainGraph: true }));
  };
  return [out, pullback];
}

/**
 * jvp(f, primals, tangents) -> [out, J·tangents], forward mode by the double-vjp trick:
 * the vjp u -> Jᵀu is linear in u, so differentiating it with respect to u along the
 * tangents gives J·tangents.
 */
export function jvp<A extends readonly Tensor[]>(f: (...args: A) => Tensor, primals: A, tangents: readonly Tensor[]): [Tensor, Tensor] {
  checkArgs('jvp', [f, primals, tangents], { f: fn, primals: array(tensorArg, 'an array of tensors'), tangents: array(tensorArg, 'an array of tensors') });
  if (tangents.length !== primals.length) throw new GradError(`jvp: ${tangents.length} tangents for ${primals.length} primals`);
  primals.forEach((p, i) => {
    const t = tangents[i]!;
    if (t.rank !== p.rank || t.shape.some((d, k) => d !== p.shape[k])) {
      throw new GradError(`jvp: tangent ${i} has shape ${fmtShape(t.shape)} but primal ${i} has shape ${fmtShape(p.shape)}`);
    }
  });
  const isNested = nested(primals);
  return scope(() =>
    enter(() => {
      const traced = primals.map(traceInput) as unknown as A;
      const out = f(...traced);
      if (!(out instanceof Tensor)) throw new GradError(`jvp: f must return a Tensor, got ${typeof out}`);
      const u = withGradEnabled(false, () => zerosLike(out));
      u.requiresGrad = true;
      const g = gradients(out, traced, { gradOutputs: u, createGraph: true });
      const [jv] = gradients(g, [u], { gradOutputs: tangents as Tensor[], createGraph: isNested });
      return [isNested ? out : detach(out), jv!] as [Tensor, Tensor];
    }),
  );
}

/** Hessian-vector product of a scalar function: ∇²f(x) · v, by reverse-over-reverse. */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  checkArgs('hvp', [f, x, v], { f: fn, x: tensorArg, v: tensorArg });
  return hvpOf('hvp', f, x, v);
}

function hvpOf(who: string, f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  if (v.rank !== x.rank || v.shape.some((d, i) => d !== x.shape[i])) {
    throw new GradError(`${who}: v has shape ${fmtShape(v.shape)} but x has shape ${fmtShape(x.shape)}`);
  }
  return gradOf(who, (xx: Tensor) => sum(mul(gradOf(who, f, 0)(xx) as Tensor, v)), 0)(x) as Tensor;
}

/** The full Hessian of a scalar function of a (small) tensor: shape [...x.shape, ...x.shape]. */
export function hessian(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  checkArgs('hessian', [f, x], { f: fn, x: tensorArg });
  return scope(() => {
    const n = x.size;
    const rows: Tensor[] = [];
    const eData = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      eData.fill(0);
      eData[i] = 1;
      const e = tensor(eData, x.shape, { dtype: x.dtype, backend: x.backend });
      rows.push(reshape(hvpOf('hessian', f, x, e), [-1]));
    }
    return reshape(stack(rows), [...x.shape, ...x.shape]);
  });
}
