// Learning to learn by gradient descent by gradient descent (Andrychowicz et al. 2016).
//
// The optimizer m is a two-layer LSTM (20 units) applied to every coordinate of the optimizee
// separately, with weights φ shared by all coordinates and a hidden state per coordinate:
//     [g_t, h_t] = m(∇_t, h_{t−1}; φ),   θ_{t+1} = θ_t + g_t.
// Its input is the paper's gradient preprocessing (appendix A) with p = 10,
//     ∇ ↦ (log|∇| / p, sign ∇)   if |∇| ≥ e^{−p},   (−1, e^p ∇) otherwise,
// and its output is scaled by 0.1. φ is trained on the loss summed along the trajectory,
//     L(φ) = Σ_t w_t f(θ_t)   (w_t = 1),
// by backpropagation through the unrolled optimization, truncated every 20 steps (θ and the
// LSTM state are carried across a truncation, the gradient is not). By default the optimizee's
// gradients are constants to the meta-gradient (∂∇_t/∂φ = 0, the paper's choice); with
// secondOrder the gradients are recorded on the tape and the exact meta-gradient includes
// the Hessian terms ∂∇_t/∂θ_t · ∂θ_t/∂φ.
//
// A trained φ is an ordinary parameter tree (save it with saveSafetensors) and
// lstmOptimizerAsOptimizer(φ) is an ts/optim Optimizer: same init/update over parameter trees.

import { gradients } from '../autodiff/backward.js';
import { detach, noGrad, requireGrad } from '../tensor/tape.js';
import { ShapeError, MetaError } from '../core/errors.js';
import { abs, add, cast, div, equal, greaterEqual, log, maximum, mul, sign, where } from '../ops/elementwise.js';
import { linear as linearOp } from '../ops/matmul.js';
import { concat, reshape, split } from '../ops/shape-ops.js';
import { argmax, mean } from '../ops/reduce.js';
import { scope } from '../tensor/scope.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DType } from '../core/dtype.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';
import { lstmCell, type LstmParams, type LstmState } from '../nn/lstm.js';
import { linear } from '../nn/linear.js';
import type { InitOptions } from '../nn/model.js';
import type { Optimizer } from '../optim/optimizer.js';
import { makeStep, readStep, checkSameTree } from '../optim/optimizer.js';
import { traceTree } from './inner.js';
import { outerUpdate } from './step.js';
import { mlpOptimizee, quadraticOptimizee, type Optimizee } from './optimizees.js';
import type { BuildContext, LearnerEntry } from './registry.js';
import type { MetaGradResult, MetaTask } from './types.js';

export type LstmOptimizerParams = { lstm: LstmParams[]; out: { w: Tensor; b: Tensor } };

export interface LstmOptimizerConfig {
  /** units per LSTM layer (default 20) */
  hidden?: number;
  /** LSTM layers (default 2) */
  layers?: number;
  /** preprocessing exponent p (default 10) */
  p?: number;
  /** output scale (default 0.1) */
  outputScale?: number;
}

export interface LstmOptimizerOptions extends LstmOptimizerConfig {
  /** optimizee steps per meta-training trajectory (default 100) */
  steps?: number;
  /** truncation of backpropagation through the trajectory (default 20) */
  truncation?: number;
  /** weight w_t of f(θ_t), t = 1..steps (default 1) */
  weight?: (t: number) => number;
  /** exact meta-gradient through the optimizee's gradients (default false: ∂∇/∂φ = 0) */
  secondOrder?: boolean;
  /** seed of the optimizee initializations drawn in meta-training (default 0) */
  seed?: number;
  /** optimizee steps at meta-test (scoreTask; default steps) */
  testSteps?: number;
  /** dtype of φ and of the optimizee's θ₀ (default float32; float64 for gradient checks) */
  dtype?: DType;
  /** backend of φ and θ₀ (default: the current backend) */
  backend?: InitOptions['backend'];
  name?: string;
}

function config(o: LstmOptimizerConfig) {
  const c = { hidden: o.hidden ?? 20, layers: o.layers ?? 2, p: o.p ?? 10, outputScale: o.outputScale ?? 0.1 };
  if (!Number.isInteger(c.hidden) || c.hidden < 1) throw new MetaError(`lstmOptimizer: hidden must be a positive integer, got ${c.hidden}`);
  if (!Number.isInteger(c.layers) || c.layers < 1) throw new MetaError(`lstmOptimizer: layers must be a positive integer, got ${c.layers}`);
  if (!(c.p > 0)) throw new MetaError(`lstmOptimizer: p must be positive, got ${c.p}`);
  if (!(c.outputScale > 0)) throw new MetaError(`lstmOptimizer: outputScale must be positive, got ${c.outputScale}`);
  return c;
}

/** Fresh optimizer weights φ: the LSTM layers (input 2 = the preprocessed gradient) and the output layer. */
export function initLstmOptimizer(rng: Rng, o: LstmOptimizerConfig = {}, init: InitOptions = {}): LstmOptimizerParams {
  const c = config(o);
  const lstm = Array.from({ length: c.layers }, (_, i) => lstmCell.init(rng, i === 0 ? 2 : c.hidden, c.hidden, init));
  return { lstm, out: linear.init(rng, c.hidden, 1, init) as { w: Tensor; b: Tensor } };
}

/** The paper's preprocessing of a gradient vector g [n] into [n, 2] (differentiable in g). */
export function preprocessGradient(g: Tensor, p = 10): Tensor {
  const a = abs(g);
  const big = greaterEqual(a, Math.exp(-p));
  // max() keeps the log finite on the masked branch, so its gradient there is 0, not NaN.
  const magnitude = where(big, div(log(maximum(a, Math.exp(-p))), p), -1);
  const direction = where(big, sign(g), mul(g, Math.exp(p)));
  return concat([reshape(magnitude, [-1, 1]), reshape(direction, [-1, 1])], 1);
}

/** One coordinatewise step: updates [n] for gradients g [n], and the next per-coordinate LSTM states. */
export function lstmOptimizerStep(phi: LstmOptimizerParams, g: Tensor, state: readonly LstmState[], o: LstmOptimizerConfig = {}): { update: Tensor; state: LstmState[] } {
  const c = config(o);
  if (state.length !== phi.lstm.length) throw new ShapeError(`lstmOptimizerStep: ${state.length} layer states for ${phi.lstm.length} LSTM layers`);
  let x = preprocessGradient(g, c.p);
  const next = phi.lstm.map((layer, i) => {
    const s = lstmCell.apply(layer, x, state[i]!);
    x = s.h;
    return s;
  });
  return { update: mul(reshape(linearOp(x, phi.out.w, phi.out.b), [-1]), c.outputScale), state: next };
}

function zeroStates(phi: LstmOptimizerParams, n: number, like: Tensor): LstmState[] {
  return phi.lstm.map((l) => lstmCell.initState(n, l.wh.shape[0]!, { dtype: like.dtype, backend: like.backend }));
}

const flatCat = (ts: readonly Tensor[]): Tensor => (ts.length === 1 ? reshape(ts[0]!, [-1]) : concat(ts.map((t) => reshape(t, [-1])), 0));
const unflat = (v: Tensor, like: readonly Tensor[]): Tensor[] => (like.length === 1 ? [reshape(v, like[0]!.shape)] : split(v, like.map((t) => t.size), 0).map((p, i) => reshape(p, like[i]!.shape)));

/**
 * A trained φ as an ts/optim Optimizer. State: { step, lstm: [{ h, c } per layer] } where h and c
 * are [n, hidden] for the n coordinates of all parameters together (treeFlatten order).
 */
export function lstmOptimizerAsOptimizer(phi: LstmOptimizerParams, o: LstmOptimizerConfig = {}): Optimizer {
  config(o);
  return {
    init(params: ParamTree): ParamTree {
      const leaves = treeFlatten(params).leaves;
      if (leaves.length === 0) throw new ShapeError('lstmOptimizer.init: the parameter tree has no leaves');
      const n = leaves.reduce((s, l) => s + l.size, 0);
      return { step: makeStep(0, leaves[0]), lstm: noGrad(() => zeroStates(phi, n, leaves[0]!)) };
    },
    update<P extends ParamTree>(params: P, grads: P, state: ParamTree) {
      checkSameTree('lstmOptimizer.update', 'params and grads', params, grads);
      const st = state as { step: Tensor; lstm: LstmState[] };
      const t = readStep(st.step, 'lstmOptimizer.update');
      const ps = treeFlatten(params).leaves, gs = treeFlatten(grads).leaves;
      const n = ps.reduce((s, l) => s + l.size, 0);
      if (!Array.isArray(st.lstm) || st.lstm.some((s) => s.h?.shape[0] !== n)) throw new ShapeError(`lstmOptimizer.update: state must hold per-layer { h, c } of [${n}, hidden] (from this optimizer's init on these parameters)`);
      const out = noGrad(() =>
        scope(() => {
          const r = lstmOptimizerStep(phi, flatCat(gs), st.lstm, o);
          const upd = unflat(r.update, ps);
          return { params: ps.map((p, i) => add(p, upd[i]!)), lstm: r.state };
        }),
      );
      ps.forEach((p, i) => (out.params[i]!.requiresGrad = p.requiresGrad));
      return { params: treeUnflatten(params, out.params), state: { step: makeStep(t + 1, st.step), lstm: out.lstm } };
    },
  };
}

/** Where an optimizee trajectory stands between truncations (no graph). */
export interface Trajectory {
  theta: Tensor[];
  state: LstmState[];
  /** steps done so far */
  t: number;
}

export interface SegmentOptions {
  steps: number;
  weight?: (t: number) => number;
  secondOrder?: boolean;
  /** replace the optimizee's gradient at step t by a given constant (to check the truncated objective) */
  fixedGradient?: (t: number) => Tensor | undefined;
  /** called with each step's optimizee gradient (detached) */
  onGradient?: (t: number, g: Tensor) => void;
}

/**
 * Unroll `steps` optimizee steps from `start` with (traced) φ: the weighted loss Σ w_t f(θ_t)
 * over the steps, on the tape, and where the trajectory ends (detached).
 */
export function unrollSegment(
  phi: LstmOptimizerParams, optimizee: Optimizee, like: ParamTree, task: MetaTask, start: Trajectory, o: SegmentOptions & LstmOptimizerConfig,
): { loss: Tensor; last: Tensor; end: Trajectory } {
  const f = (theta: Tensor[]) => optimizee.loss(optimizee.model.apply(treeUnflatten(like, theta), task.support.x), task.support.y);
  let theta = start.theta, state = start.state;
  let total: Tensor | null = null, last: Tensor | null = null;
  let cur = o.secondOrder ? theta.map((t) => (t.requiresGrad ? t : requireGrad(detach(t)))) : theta;
  let curLoss = o.secondOrder ? f(cur) : null;
  for (let s = 0; s < o.steps; s++) {
    const t = start.t + s;
    let g: Tensor;
    const fixed = o.fixedGradient?.(t);
    if (fixed) g = fixed;
    else if (o.secondOrder) g = flatCat(gradients(curLoss!, cur, { createGraph: true }));
    else {
      // ∂∇/∂φ = 0: the gradient of a detached copy enters as a constant.
      const at = cur.map((x) => requireGrad(detach(x)));
      g = flatCat(gradients(f(at), at));
    }
    o.onGradient?.(t, detach(g));
    const r = lstmOptimizerStep(phi, g, state, o);
    const upd = unflat(r.update, cur);
    cur = cur.map((x, i) => add(x, upd[i]!));
    state = r.state;
    curLoss = f(cur);
    const w = o.weight ? o.weight(t + 1) : 1;
    const term = w === 1 ? curLoss : mul(curLoss, w);
    total = total ? add(total, term) : term;
    last = curLoss;
  }
  theta = cur;
  return { loss: total!, last: last!, end: { theta: theta.map(detach), state: state.map((s) => ({ h: detach(s.h), c: detach(s.c) })), t: start.t + o.steps } };
}

/** The meta-learner over φ (the MetaLearner contract: init, metaGrad, scoreTask). */
export interface LstmOptimizerLearner {
  readonly name: string;
  init(params?: ParamTree): LstmOptimizerParams;
  metaGrad(meta: LstmOptimizerParams, tasks: readonly MetaTask[]): MetaGradResult<LstmOptimizerParams>;
  /** the optimizee's query loss after testSteps from the test start; for int32 labels also its query accuracy */
  scoreTask(meta: LstmOptimizerParams, task: MetaTask): { loss: Tensor; accuracy?: Tensor };
  /**
   * The paper's schedule: the tasks' trajectories (a fresh θ₀ each) advance together, and each
   * truncation's meta-gradient, the mean over the tasks, is one update of φ. metaStep (and so the
   * CLI) runs a meta-batch this way. Returns the new φ and outer state (the old ones are disposed
   * when replaced) and the trajectories' loss Σ_t w_t f(θ_t), mean over the tasks.
   */
  metaUpdate(meta: LstmOptimizerParams, optimizer: Optimizer, optState: ParamTree, tasks: readonly MetaTask[], opts?: TruncatedUpdateOptions): { meta: LstmOptimizerParams; optState: ParamTree; loss: Tensor };
  /** The meta-gradient of one trajectory truncation by truncation, each truncation's gradient handed to `onSegment`. */
  trajectory(meta: () => LstmOptimizerParams, task: MetaTask, onSegment: (r: MetaGradResult<LstmOptimizerParams>) => void, rng?: Rng): void;
  /** the optimizee start θ₀ for meta-test (the same for every scored task) */
  testStart(): ParamTree;
  readonly steps: number;
  readonly testSteps: number;
  /** Start iteration i's optimizee draws afresh from (seed, i), so a resumed run draws what an uninterrupted one would. */
  setIteration(iteration: number): void;
}

export interface TruncatedUpdateOptions {
  /** clip each truncation's meta-gradient to this global norm */
  clipNorm?: number;
  /** θ₀ draws (default: the learner's stream for the iteration, see setIteration) */
  rng?: Rng;
  /** called after each update with the truncation's loss (mean over the tasks) and its index */
  onSegment?: (loss: number, segment: number) => void;
}

/** The coordinatewise LSTM optimizer meta-learner for an optimizee (quadratics, an MLP, ...). */
export function lstmOptimizer(optimizee: Optimizee, opts: LstmOptimizerOptions = {}): LstmOptimizerLearner {
  const name = opts.name ?? 'lstm-optimizer';
  const cfg = config(opts);
  const steps = opts.steps ?? 100, truncation = opts.truncation ?? 20, testSteps = opts.testSteps ?? steps;
  for (const [k, v] of [['steps', steps], ['truncation', truncation], ['testSteps', testSteps]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new MetaError(`${name}: ${k} must be a positive integer, got ${v}`);
  }
  const seed = opts.seed ?? 0;
  let rng = new Rng(seed);
  const segOpts = { ...cfg, weight: opts.weight, secondOrder: opts.secondOrder };

  const startOf = (theta0: ParamTree, phi: LstmOptimizerParams): Trajectory => {
    const leaves = treeFlatten(theta0).leaves;
    return { theta: leaves, state: zeroStates(phi, leaves.reduce((s, l) => s + l.size, 0), leaves[0]!), t: 0 };
  };

  // θ at t = 0 is θ₀'s leaves, disposed with θ₀.
  const disposeTrajectory = (at: Trajectory) => {
    for (const x of [...(at.t > 0 ? at.theta : []), ...at.state.flatMap((s) => [s.h, s.c])]) x.dispose();
  };

  const trajectory = (meta: () => LstmOptimizerParams, task: MetaTask, onSegment: (r: MetaGradResult<LstmOptimizerParams>) => void, r = rng) => {
    const theta0 = optimizee.model.init(r, init) as ParamTree;
    let at = noGrad(() => startOf(theta0, meta()));
    for (let done = 0; done < steps; done += truncation) {
      const phi = meta();
      const prev = at;
      const out = scope(() => {
        const { tree, leaves } = traceTree(phi);
        const seg = unrollSegment(tree, optimizee, theta0, task, prev, { ...segOpts, steps: Math.min(truncation, steps - done) });
        const grads = gradients(seg.loss, leaves);
        return { loss: detach(seg.loss), grads: treeUnflatten(phi, grads), end: seg.end };
      });
      disposeTrajectory(prev);
      at = out.end;
      onSegment({ loss: out.loss, grads: out.grads });
    }
    disposeTrajectory(at);
    for (const x of treeFlatten(theta0).leaves) x.dispose();
  };

  const metaUpdate: LstmOptimizerLearner['metaUpdate'] = (meta, optimizer, optState, tasks, o = {}) => {
    if (!Array.isArray(tasks) || tasks.length === 0) throw new MetaError(`${name}.metaUpdate: need a non-empty array of tasks`);
    if (o.clipNorm !== undefined && !(o.clipNorm > 0)) throw new MetaError(`${name}.metaUpdate: clipNorm must be positive, got ${o.clipNorm}`);
    const r = o.rng ?? rng;
    const theta0s = tasks.map(() => optimizee.model.init(r, init) as ParamTree);
    let at = theta0s.map((t0) => noGrad(() => startOf(t0, meta)));
    let phi = meta, state = optState, total: Tensor | null = null;
    for (let done = 0, segment = 0; done < steps; done += truncation, segment++) {
      const len = Math.min(truncation, steps - done);
      // Each task's truncation with the same φ, its gradient summed into the mean over the tasks.
      let loss: Tensor | null = null, grads: Tensor[] | null = null;
      at = at.map((prev, i) => {
        const out = scope(() => {
          const { tree, leaves } = traceTree(phi);
          const seg = unrollSegment(tree, optimizee, theta0s[i]!, tasks[i]!, prev, { ...segOpts, steps: len });
          const g = gradients(seg.loss, leaves);
          return { loss: noGrad(() => (loss ? add(loss, seg.loss) : detach(seg.loss))), grads: grads ? noGrad(() => grads!.map((a, k) => add(a, g[k]!))) : g, end: seg.end };
        });
        if (loss) for (const x of [loss, ...grads!]) x.dispose();
        loss = out.loss;
        grads = out.grads;
        disposeTrajectory(prev);
        return out.end;
      });
      const n = tasks.length;
      const mean = noGrad(() => ({ grads: treeUnflatten(phi, grads!.map((g) => div(g, n))), loss: div(loss!, n) }));
      const u = outerUpdate(phi, optimizer, state, mean.grads, o.clipNorm, `${name}.metaUpdate`);
      for (const x of [loss!, ...grads!, ...treeFlatten(mean.grads).leaves]) x.dispose();
      phi = u.meta;
      state = u.optState;
      if (o.onSegment) o.onSegment(mean.loss.itemSync(), segment);
      const next = noGrad(() => (total ? add(total, mean.loss) : mean.loss));
      if (total) for (const x of [total, mean.loss]) x.dispose();
      total = next;
    }
    for (const a of at) disposeTrajectory(a);
    for (const t0 of theta0s) for (const x of treeFlatten(t0).leaves) x.dispose();
    return { meta: phi, optState: state, loss: total! };
  };

  const init: InitOptions = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
  const testStart = () => optimizee.model.init(new Rng([seed, 1]), init) as ParamTree;

  return {
    name,
    steps,
    testSteps,
    testStart,
    trajectory,
    metaUpdate,
    setIteration: (i) => {
      rng = new Rng([(seed + 0x6d2b79f5) >>> 0, i]); // a stream of its own (the CLI draws tasks from [seed, i + 1])
    },
    init: () => initLstmOptimizer(new Rng([seed, 2]), cfg, init),
    // The whole trajectory at a fixed φ, the truncations' gradients summed (metaStep uses metaUpdate instead: the paper's schedule).
    metaGrad(meta, tasks) {
      if (!Array.isArray(tasks) || tasks.length === 0) throw new MetaError(`${name}.metaGrad: need a non-empty array of tasks`);
      let loss: Tensor | null = null;
      let grads: Tensor[] | null = null;
      for (const task of tasks) {
        trajectory(() => meta, task, (r) => {
          const g = treeFlatten(r.grads).leaves;
          noGrad(() => {
            const nl: Tensor = loss ? add(loss, r.loss) : r.loss;
            const ng: Tensor[] = grads ? grads.map((a, i) => add(a, g[i]!)) : g;
            if (loss) for (const x of [loss, r.loss, ...grads!, ...g]) x.dispose();
            loss = nl;
            grads = ng;
          });
        });
      }
      const n = tasks.length;
      const out = noGrad(() => ({ loss: div(loss!, n), grads: treeUnflatten(meta, grads!.map((g) => div(g, n))) }));
      for (const x of [loss!, ...grads!]) x.dispose();
      return out;
    },
    // Run the optimizee for testSteps from the fixed test start; the score is the final loss on the query batch.
    scoreTask(meta, task) {
      return scope(() => {
        const opt = lstmOptimizerAsOptimizer(meta, cfg);
        const { curve, params } = optimize(opt, optimizee, testStart(), task, testSteps);
        const loss = curve[curve.length - 1]!;
        if (task.query.y.dtype !== 'int32') return { loss };
        const accuracy = noGrad(() => mean(cast(equal(argmax(optimizee.model.apply(params, task.query.x), -1), task.query.y), 'float32')));
        return { loss, accuracy };
      });
    },
  };
}

/**
 * Optimize a task's support loss with any Optimizer for `steps` steps from θ₀; returns the loss
 * after each step on the query batch (0-d tensors; the first is the loss at θ₀). No graph kept.
 */
export function runOptimizer(opt: Optimizer, optimizee: Optimizee, theta0: ParamTree, task: MetaTask, steps: number): Tensor[] {
  return optimize(opt, optimizee, theta0, task, steps).curve;
}

/** runOptimizer's loop, also returning the final parameters. */
function optimize(opt: Optimizer, optimizee: Optimizee, theta0: ParamTree, task: MetaTask, steps: number): { curve: Tensor[]; params: ParamTree } {
  const f = (p: ParamTree, b: MetaTask['support']) => optimizee.loss(optimizee.model.apply(p, b.x), b.y);
  let params = theta0;
  let state = opt.init(params);
  const curve: Tensor[] = [noGrad(() => f(params, task.query))];
  for (let s = 0; s < steps; s++) {
    const next = scope(() => {
      const { tree, leaves } = traceTree(params);
      const g = gradients(f(tree, task.support), leaves);
      const r = opt.update(params, treeUnflatten(params, g), state);
      return { ...r, loss: noGrad(() => f(r.params, task.query)) };
    });
    const keep = new Set([...treeFlatten(next.params).leaves, ...treeFlatten(next.state).leaves]);
    for (const x of [...(s > 0 ? treeFlatten(params).leaves : []), ...treeFlatten(state).leaves]) if (!keep.has(x)) x.dispose();
    params = next.params;
    state = next.state;
    curve.push(next.loss);
  }
  return { curve, params };
}

/**
 * Meta-train φ on the paper's schedule: each trajectory is a fresh optimizee from `sample`, and
 * every truncation of it gives one outer update of φ. Returns the final φ and outer state
 * (the ones passed in are disposed when replaced).
 */
export function trainLstmOptimizer(
  learner: LstmOptimizerLearner, phi: LstmOptimizerParams, outer: Optimizer, outerState: ParamTree, sample: (rng: Rng) => MetaTask,
  opts: { trajectories: number; rng?: Rng; onSegment?: (loss: number, segment: number) => void },
): { phi: LstmOptimizerParams; state: ParamTree } {
  if (!Number.isInteger(opts.trajectories) || opts.trajectories < 1) throw new MetaError(`trainLstmOptimizer: trajectories must be a positive integer, got ${opts.trajectories}`);
  const rng = opts.rng ?? new Rng(1);
  let segment = 0;
  const onSegment = opts.onSegment;
  for (let i = 0; i < opts.trajectories; i++) {
    const task = sample(rng);
    const u = learner.metaUpdate(phi, outer, outerState, [task], { rng, onSegment: onSegment && ((loss) => onSegment(loss, segment++)) });
    phi = u.meta;
    outerState = u.optState;
    u.loss.dispose();
    for (const x of new Set([task.support.x, task.support.y, task.query.x, task.query.y])) x.dispose();
  }
  return { phi, state: outerState };
}

/** The optimizee of a training run: the task's quadratics, or an MLP (20 sigmoid units) trained on an episode's support set. */
function entryOptimizee(ctx: BuildContext): Optimizee {
  const t = ctx.task;
  if (t.kind === 'regression') return quadraticOptimizee({ dims: ctx.options['dims'] as number, count: ctx.options['functions'] as number });
  return mlpOptimizee({ inputs: t.inputShape.reduce((a, b) => a * b, 1), classes: t.ways ?? (ctx.options['ways'] as number) });
}

export const lstmOptimizerEntry: LearnerEntry = {
  name: 'lstm-optimizer',
  family: 'learned-optimizer',
  summary: 'coordinatewise LSTM optimizer meta-trained through unrolled optimization (Andrychowicz et al. 2016)',
  tasks: ['quadratic', 'omniglot'],
  options: {
    steps: { kind: 'int', default: 100, min: 1, help: 'optimizee steps per meta-training trajectory' },
    truncation: { kind: 'int', default: 20, min: 1, help: 'truncated backpropagation every N steps' },
    testSteps: { kind: 'int', default: (o) => o['steps'], min: 1, help: 'optimizee steps at meta-test (default: --steps)' },
    secondOrder: { kind: 'bool', default: false, help: "exact meta-gradient through the optimizee's gradients (the paper: constants)" },
  },
  // an iteration is one trajectory (of --functions quadratics), one meta-update per truncation; the paper's bench lr
  overrides: { metaBatch: 1, metaLr: 0.003 },
  model: (ctx) => entryOptimizee(ctx).model,
  build: (_model, ctx) => {
    const o = ctx.options;
    return lstmOptimizer(entryOptimizee(ctx), { steps: o['steps'] as number, truncation: o['truncation'] as number, testSteps: o['testSteps'] as number, secondOrder: o['secondOrder'] as boolean, seed: o['seed'] as number });
  },
  checkpoint: 'meta: φ, the 2-layer LSTM (20 units) and its output layer; opt: Adam moments and step',
  describe: (o) => `${String(o['steps'])} optimizee steps truncated every ${String(o['truncation'])}${o['secondOrder'] ? ', second order' : ''}, one meta-update per truncation`,
};
