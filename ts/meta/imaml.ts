// iMAML (Rajeswaran et al. 2019): the inner problem is regularized towards the
// initialization,  φ*(θ) = argmin_φ  G(φ) = L_support(φ) + λ/2 ‖φ − θ‖²,
// and at its optimum the implicit function theorem gives dφ*/dθ = (I + H/λ)⁻¹ with
// H = ∇²L_support(φ*). The meta-gradient is therefore
//   g = (I + H/λ)⁻¹ ∇L_query(φ*)   ⇔   (H + λI) g = λ ∇L_query(φ*),
// solved by conjugate gradient with Hessian-vector products of G (the regularized inner
// objective, whose Hessian is H + λI). The inner loop runs without a graph and only its
// endpoint is used, so memory does not depend on the number of inner steps.
// All CG arithmetic stays in (0-d) tensors: no synchronous reads, so it runs on WebGPU too.

import { gradients } from '../autodiff/backward.js';
import { detach, noGrad, requireGrad } from '../tensor/tape.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';
import { add, div, greater, mul, sub, where } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { INNER_LOOP_OPTIONS, batchLoss, checkSteps, describeInnerLoop, detachTree, scoreAdapted } from './inner.js';
import { checkBatch } from './task-checks.js';
import { MetaError } from '../core/errors.js';
import { meanOverTasks } from './metabatch.js';
import type { LearnerEntry } from './registry.js';
import type { GradientMetaLearner, LossFn, MetaBatch, MetaModel } from './types.js';

export interface ImamlOptions {
  /** gradient steps on the regularized inner objective (default 10) */
  innerSteps?: number;
  innerLr?: number;
  /** regularization strength λ (default 1) */
  lambda?: number;
  /** conjugate-gradient iterations (default 5) */
  cgSteps?: number;
  loss?: LossFn;
  training?: boolean;
}

/** Sum over leaves of ⟨a, b⟩ as a 0-d tensor. */
function dot(a: readonly Tensor[], b: readonly Tensor[]): Tensor {
  return a.map((x, i) => sum(mul(x, b[i]!))).reduce((s, t) => add(s, t));
}

/** a / b where b > 0, else 0. */
function safeDiv(a: Tensor, b: Tensor): Tensor {
  const ok = greater(b, 0);
  return where(ok, div(a, where(ok, b, 1)), 0);
}

/**
 * Conjugate gradient for A x = b with A symmetric positive definite, given as a product
 * function on lists of tensors. Starts at x = 0; returns after `iters` iterations.
 */
export function conjugateGradient(Av: (v: Tensor[]) => Tensor[], b: readonly Tensor[], iters: number): Tensor[] {
  return noGrad(() => {
    let x = b.map((t) => mul(t, 0));
    let r = b.slice();
    let p = b.slice();
    let rr = dot(r, r);
    for (let k = 0; k < iters; k++) {
      const Ap = Av(p);
      // Guards (in tensors, no host read): stop moving along directions of non-positive
      // curvature (a non-convex inner loss can make H + λI indefinite) and once the residual is 0.
      const pAp = dot(p, Ap);
      const alpha = safeDiv(rr, pAp);
      x = x.map((xi, i) => add(xi, mul(p[i]!, alpha)));
      r = r.map((ri, i) => sub(ri, mul(Ap[i]!, alpha)));
      const rrNew = dot(r, r);
      const beta = safeDiv(rrNew, rr);
      p = p.map((pi, i) => add(r[i]!, mul(pi, beta)));
      rr = rrNew;
    }
    return x;
  });
}

export function imaml(model: MetaModel, opts: ImamlOptions = {}): GradientMetaLearner<ParamTree> {
  const steps = opts.innerSteps ?? 10;
  checkSteps('imaml', steps);
  const lr = opts.innerLr ?? 0.01;
  const lambda = opts.lambda ?? 1;
  const cgSteps = opts.cgSteps ?? 5;
  if (!(lr > 0)) throw new MetaError(`imaml: innerLr must be positive, got ${lr}`);
  if (!(lambda > 0)) throw new MetaError(`imaml: lambda must be positive, got ${lambda}`);
  if (!Number.isInteger(cgSteps) || cgSteps < 1) throw new MetaError(`imaml: cgSteps must be an integer >= 1, got ${cgSteps}`);
  const lossOpts = { loss: opts.loss, training: opts.training };

  /** The regularized inner objective G(φ) = L_support(φ) + λ/2 ‖φ − θ‖² at leaves `phi`. */
  const objective = (like: ParamTree, phi: Tensor[], theta: readonly Tensor[], support: MetaBatch): Tensor => {
    const { loss } = batchLoss(model, treeUnflatten(like, phi), support, lossOpts);
    const reg = phi.map((p, i) => sum(mul(sub(p, theta[i]!), sub(p, theta[i]!)))).reduce((s, t) => add(s, t));
    return add(loss, mul(reg, lambda / 2));
  };

  /** Approximately minimize G by gradient descent from θ, one step per scope (flat memory). */
  const solveInner = (meta: ParamTree, support: MetaBatch): Tensor[] => {
    checkBatch('imaml', support, 'support');
    const theta = treeFlatten(meta).leaves.map(detach);
    let phi = theta;
    for (let s = 0; s < steps; s++) {
      const prev = phi;
      phi = scope(() => {
        const at = prev.map((t) => requireGrad(detach(t)));
        const g = gradients(objective(meta, at, theta, support), at);
        return noGrad(() => at.map((p, i) => sub(p, mul(g[i]!, lr))));
      });
      if (prev !== theta) for (const t of prev) t.dispose();
    }
    return phi;
  };

  const learner: GradientMetaLearner<ParamTree> = {
    name: 'imaml',
    init: (params) => params,
    modelParams: (meta) => meta,
    metaGrad: (meta, tasks) =>
      meanOverTasks('imaml', meta, tasks, (task) => {
        checkBatch('imaml', task.query, 'task.query');
        const theta = treeFlatten(meta).leaves.map(detach);
        const phi = solveInner(meta, task.support).map((t) => requireGrad(detach(t)));
        const { loss, accuracy } = batchLoss(model, treeUnflatten(meta, phi), task.query, lossOpts);
        const vq = gradients(loss, phi);
        // Hessian-vector products of G at φ*: one recorded first derivative, many backward passes over it.
        const gG = gradients(objective(meta, phi, theta, task.support), phi, { createGraph: true });
        const Av = (v: Tensor[]) => gradients(gG, phi, { gradOutputs: v, retainGraph: true });
        const rhs = noGrad(() => vq.map((g) => mul(g, lambda)));
        const grads = conjugateGradient(Av, rhs, cgSteps);
        return { loss: detach(loss), accuracy, grads };
      }),
    adapt: (meta, support) => detachTree(treeUnflatten(meta, solveInner(meta, support))),
    scoreTask: (meta, task, o) => scoreAdapted(model, learner, meta, task, o),
  };
  return learner;
}

export const imamlEntry: LearnerEntry = {
  name: 'imaml',
  family: 'gradient-based',
  summary: 'iMAML: implicit meta-gradients of a regularized inner problem by conjugate gradient (Rajeswaran et al. 2019)',
  tasks: ['sinusoid', 'omniglot'],
  options: {
    // the regularized inner problem needs to be roughly solved: more steps than MAML's
    innerSteps: { ...INNER_LOOP_OPTIONS.innerSteps, default: 10 },
    innerLr: INNER_LOOP_OPTIONS.innerLr,
    lambda: { kind: 'num', default: 1, above: 0, help: 'regularization strength λ of the inner problem' },
    cgSteps: { kind: 'int', default: 5, min: 1, help: 'conjugate-gradient iterations for the implicit meta-gradient' },
  },
  build: (model, { options: o }) => imaml(model, {
    innerSteps: o['innerSteps'] as number, innerLr: o['innerLr'] as number, lambda: o['lambda'] as number, cgSteps: o['cgSteps'] as number,
  }),
  checkpoint: 'meta: θ (the initialization); opt: Adam moments and step',
  describe: describeInnerLoop,
};
