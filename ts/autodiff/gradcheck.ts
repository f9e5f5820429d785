// gradcheck / gradgradcheck: compare autodiff against central finite differences in
// float64 on the reference backend. Users check their own functions with these too.
//
// For f: inputs -> output, a random cotangent u turns the output into the scalar <u, f(x)>;
// its gradient from the tape is compared, element by element, with central differences
// (f(x + h e_i) - f(x - h e_i)) / 2h of the same scalar. gradgradcheck applies the same
// check to the function (x, u) -> the vjp of f, i.e. to the backward pass itself.

import { GradError, GradcheckError, type GradcheckReport, ValueError, fmtShape } from '../core/errors.js';
import { describe, expectFunction, expectOptions } from '../core/shape.js';
import { getBackend } from '../backend/registry.js';
import { tensor } from '../tensor/create.js';
import { scope } from '../tensor/scope.js';
import { Tensor, expectTensor } from '../tensor/tensor.js';
import { philoxFill } from '../core/philox.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { gradients } from './backward.js';
import { detach, noGrad, withGradEnabled } from '../tensor/tape.js';

export interface GradcheckOptions {
  /** finite-difference step (default 1e-6) */
  eps?: number;
  /** absolute tolerance (default 1e-7) */
  atol?: number;
  /** relative tolerance (default 1e-6) */
  rtol?: number;
  /** seed for the random cotangents */
  seed?: number;
  /** check only these input indices (default: every float input) */
  wrt?: readonly number[];
  /** throw a GradcheckError instead of returning the report (default true) */
  raise?: boolean;
}

type Fn = (...xs: Tensor[]) => Tensor | readonly Tensor[];

function asList(y: Tensor | readonly Tensor[]): Tensor[] {
  return Array.isArray(y) ? (y as Tensor[]) : [y as Tensor];
}

function toF64(x: Tensor): Tensor {
  const js = getBackend('js');
  return tensor(Float64Array.from(x.dataSync()), x.shape.slice(), { dtype: x.dtype === 'int32' ? 'int32' : 'float64', backend: js });
}

/** Random cotangents, one per output of f at xs, fixed by the seed (float64, js). */
function randomCotangents(f: Fn, xs: readonly Tensor[], seed: number): Tensor[] {
  const outs = noGrad(() => asList(f(...xs)));
  return outs.map((o, k) => {
    const u = new Float64Array(o.size);
    philoxFill('normal', [seed, k], 0, u);
    return tensor(u, o.shape.slice(), { dtype: 'float64', backend: xs[0]!.backend });
  });
}

/** Check first derivatives of f at the given inputs (converted to float64 on the js backend). */
export function gradcheck(f: Fn, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  checkArgs('gradcheck', f, inputs, opts);
  const eps = opts.eps ?? 1e-6, atol = opts.atol ?? 1e-7, rtol = opts.rtol ?? 1e-6;
  return scope(() => {
    const xs = inputs.map(toF64);
    const wrt = opts.wrt ?? xs.flatMap((x, i) => (x.dtype === 'float64' ? [i] : []));
    const us = randomCotangents(f, xs, opts.seed ?? 1234);
    const scalar = (vals: Tensor[]): number => {
      const outs = asList(f(...vals));
      if (outs.length !== us.length) throw new GradError(`gradcheck: f returned ${outs.length} outputs, then ${us.length}`);
      let s = 0;
      outs.forEach((o, k) => {
        if (o.dtype !== 'float64') throw new GradError(`gradcheck: output ${k} is ${o.dtype}; gradcheck needs float64 throughout`);
        s += sum(mul(o, us[k]!)).itemSync();
      });
      return s;
    };
    // Analytic
    const leaves = xs.map((x, i) => {
      const t = detach(x);
      if (wrt.includes(i)) t.requiresGrad = true;
      return t;
    });
    const outs = asList(f(...leaves));
    const analytic = gradients(outs, wrt.map((i) => leaves[i]!), { gradOutputs: us });
    // Numeric, element by element
    let worst: GradcheckReport['worst'] = null;
    let worstRatio = -1;
    let checked = 0;
    wrt.forEach((i, k) => {
      const base = Float64Array.from(xs[i]!.dataSync());
      const a = analytic[k]!.dataSync();
      for (let j = 0; j < base.length; j++) {
        const plus = base.slice(); plus[j] += eps;
        const minus = base.slice(); minus[j] -= eps;
        const at = (vals: Float64Array) =>
          noGrad(() => scope(() => scalar(xs.map((x, m) => (m === i ? tensor(vals, x.shape.slice(), { dtype: 'float64', backend: x.backend }) : x)))));
        const numeric = (at(plus) - at(minus)) / (2 * eps);
        const err = Math.abs(a[j]! - numeric);
        const allowed = atol + rtol * Math.abs(numeric);
        const ratio = Number.isNaN(err) ? Infinity : err / allowed;
        checked++;
        if (ratio > worstRatio) {
          worstRatio = ratio;
          worst = { input: i, index: j, analytic: a[j]!, numeric, error: err, allowed };
        }
      }
    });
    const report: GradcheckReport = { ok: worstRatio <= 1, worst, checked };
    if (!report.ok && (opts.raise ?? true)) {
      const w = report.worst!;
      throw new GradcheckError(
        `gradcheck failed: input ${w.input} ${fmtShape(inputs[w.input]!.shape)}, flat index ${w.index}: analytic ${w.analytic} vs numeric ${w.numeric} (error ${w.error.toExponential(3)} > allowed ${w.allowed.toExponential(3)})`,
        report,
      );
    }
    return report;
  });
}

/**
 * Check second derivatives: gradcheck of (x..., u...) -> vjp_f(x)(u), the backward pass
 * as a function of the inputs and the output cotangents.
 */
export function gradgradcheck(f: Fn, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  checkArgs('gradgradcheck', f, inputs, opts);
  return scope(() => {
    const xs = inputs.map(toF64);
    const wrt = opts.wrt ?? xs.flatMap((x, i) => (x.dtype === 'float64' ? [i] : []));
    const us = randomCotangents(f, xs, (opts.seed ?? 1234) + 7);
    const n = xs.length;
    const backwardFn = (...vals: Tensor[]): Tensor[] => {
      const xv = vals.slice(0, n);
      const uv = vals.slice(n);
      const outs = asList(f(...xv));
      const targets = wrt.map((i) => xv[i]!).filter((t) => t.requiresGrad);
      if (targets.length < wrt.length) {
        // During the numeric pass nothing requires grad: make the inputs leaves again.
        return noGradFallback(f, xv, uv, wrt);
      }
      return gradients(outs, targets, { gradOutputs: uv, createGraph: true });
    };
    const all = [...xs, ...us];
    const wrt2 = [...wrt, ...us.map((_, k) => n + k)];
    return gradcheck(backwardFn, all, { ...opts, wrt: wrt2, seed: (opts.seed ?? 1234) + 99 });
  });
}

/** The vjp of f at fresh leaves (used when gradcheck evaluates the backward pass numerically). */
function noGradFallback(f: Fn, xv: Tensor[], uv: Tensor[], wrt: readonly number[]): Tensor[] {
  const leaves = xv.map((x, i) => {
    const t = detach(x);
    if (wrt.includes(i)) t.requiresGrad = true;
    return t;
  });
  const outs = asList(withGrad(() => f(...leaves)));
  return withGrad(() => gradients(outs, wrt.map((i) => leaves[i]!), { gradOutputs: uv }));
}

function withGrad<T>(fn: () => T): T {
  return withGradEnabled(true, fn);
}

function checkArgs(op: string, f: unknown, inputs: unknown, opts: unknown): void {
  expectFunction(f, op, 'f');
  if (!Array.isArray(inputs)) throw new ValueError(`${op}: inputs must be an array of tensors, got ${describe(inputs)}`);
  inputs.forEach((x, i) => expectTensor(x, op, `input ${i}`));
  expectOptions(opts as object, op);
}
