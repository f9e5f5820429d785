// Batch normalization with its statistics mode made explicit:
//   'transductive' — always the current batch's statistics, in training and at test time
//                    (the MAML reference: each task's support/query batch is normalized by itself);
//   'per-step'     — MAML++ (Antoniou et al. 2019): a separate learnable gamma/beta and separate
//                    running statistics for every inner-loop step index; batch statistics
//                    in training (and whenever no state is given);
//   'running'      — classic: batch statistics in training, running statistics (momentum
//                    averages) when not training.
// Running statistics are not parameters: they live in a separate state tree
// ({ mean, var }) that applyWithState returns updated, functionally — never mutated in place,
// never differentiated, never touched by an optimizer. Per-step rows are indexed by step:
// gamma/beta/mean/var have shape [maxSteps + 1, C], so steps 0..maxSteps-1 are the inner
// updates and step maxSteps is the query pass after the last update.

import { ShapeError, fmtShape } from '../core/errors.js';
import { noGrad } from '../tensor/tape.js';
import { batchNormInference, batchNormReluMaxPool, batchNormTrain } from '../ops/batchnorm.js';
import { add, mul, relu, sub } from '../ops/elementwise.js';
import { maxPool2d } from '../ops/pool.js';
import { oneHot } from '../ops/indexing.js';
import { broadcastTo, permute, reshape, slice } from '../ops/shape-ops.js';
import { ones, tensor, zeros } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkPositiveInt } from './init.js';
import type { InitOptions } from './model.js';

export type BatchNormMode = 'transductive' | 'per-step' | 'running';

export interface BatchNormConfig {
  mode: BatchNormMode;
  /** per-step mode: number of inner steps (rows = maxSteps + 1); default 5 */
  maxSteps?: number;
  /** weight of the new batch in the running averages (PyTorch convention), default 0.1 */
  momentum?: number;
  eps?: number;
}

export type BatchNormParams = { gamma: Tensor; beta: Tensor };
/** Running statistics; an empty tree in transductive mode. */
export type BatchNormState = { mean: Tensor; var: Tensor } | Record<string, never>;

export interface BatchNormApplyOptions {
  training?: boolean;
  step?: number;
  state?: BatchNormState;
  /**
   * Follow with ReLU and a 2×2 stride-2 max-pool (x [N, C, H, W], H, W ≥ 2): Conv-4's block end.
   * With batch statistics this is one fused op (batchNormReluMaxPool), which never stores the
   * normalized y; with running statistics, batchNormInference then relu(maxPool2d).
   */
  reluMaxPool?: boolean;
}

const MODES: readonly BatchNormMode[] = ['transductive', 'per-step', 'running'];

function checkConfig(cfg: BatchNormConfig, fn: string): Required<BatchNormConfig> {
  if (!cfg || !MODES.includes(cfg.mode)) throw new ShapeError(`${fn}: mode must be one of ${MODES.join(', ')}, got ${String(cfg?.mode)}`);
  const maxSteps = cfg.maxSteps ?? 5;
  checkPositiveInt(maxSteps, 'maxSteps', fn);
  const momentum = cfg.momentum ?? 0.1;
  if (!(momentum >= 0 && momentum <= 1)) throw new ShapeError(`${fn}: momentum must be in [0, 1], got ${momentum}`);
  return { mode: cfg.mode, maxSteps, momentum, eps: cfg.eps ?? 1e-5 };
}

function rows(cfg: Required<BatchNormConfig>): number | null {
  return cfg.mode === 'per-step' ? cfg.maxSteps + 1 : null;
}

function stepIndex(cfg: Required<BatchNormConfig>, step: number | undefined, fn: string): number {
  const s = step ?? 0;
  if (!Number.isInteger(s) || s < 0 || s > cfg.maxSteps) {
    throw new ShapeError(`${fn}: per-step batch norm has rows for steps 0..${cfg.maxSteps} (maxSteps ${cfg.maxSteps}), got step ${String(step)}`);
  }
  return s;
}

/** Row `s` of a per-step [S, C] tensor as [C] (differentiable: a slice). */
function row(t: Tensor, s: number): Tensor {
  return reshape(slice(t, [s, 0], [1, t.shape[1]!]), [t.shape[1]!]);
}

function geometry(x: Tensor, channels: number, fn: string): { count: number } {
  if (x.rank < 2 || x.shape[1] !== channels) {
    throw new ShapeError(`${fn}: input ${fmtShape(x.shape)} must be [N, ${channels}, ...] (channels on axis 1)`);
  }
  const axes = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)];
  return { count: axes.reduce((n, a) => n * x.shape[a]!, 1) };
}

export const batchNorm = {
  /** gamma = 1, beta = 0: [C], or [maxSteps + 1, C] in per-step mode. */
  init(_rng: Rng, channels: number, cfg: BatchNormConfig, opts: InitOptions = {}): BatchNormParams {
    const c = checkConfig(cfg, 'batchNorm.init');
    checkPositiveInt(channels, 'channels', 'batchNorm.init');
    const r = rows(c);
    const shape = r === null ? [channels] : [r, channels];
    const o = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    return { gamma: ones(shape, o), beta: zeros(shape, o) };
  },

  /** Running mean 0 and variance 1 (per step in per-step mode); {} in transductive mode. */
  initState(channels: number, cfg: BatchNormConfig, opts: InitOptions = {}): BatchNormState {
    const c = checkConfig(cfg, 'batchNorm.initState');
    checkPositiveInt(channels, 'channels', 'batchNorm.initState');
    if (c.mode === 'transductive') return {};
    const r = rows(c);
    const shape = r === null ? [channels] : [r, channels];
    const o = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    return { mean: zeros(shape, o), var: ones(shape, o) };
  },

  apply(params: BatchNormParams, x: Tensor, cfg: BatchNormConfig, opts: BatchNormApplyOptions = {}): Tensor {
    return forward(params, x, cfg, opts, 'batchNorm.apply').y;
  },

  /** Forward pass plus the state moved towards this batch's statistics (when training and the mode keeps any). */
  applyWithState(params: BatchNormParams, state: BatchNormState, x: Tensor, cfg: BatchNormConfig, opts: Omit<BatchNormApplyOptions, 'state'> = {}): { y: Tensor; state: BatchNormState } {
    const { y, batchMean, batchVar, count } = forward(params, x, cfg, { ...opts, state }, 'batchNorm.applyWithState');
    const c = checkConfig(cfg, 'batchNorm.applyWithState');
    if (c.mode === 'transductive' || !opts.training || !batchMean || !batchVar) return { y, state };
    const st = state as { mean: Tensor; var: Tensor };
    const next = noGrad(() => {
      // PyTorch's convention: the running variance is the unbiased batch variance.
      const unbiased = mul(batchVar, count / Math.max(count - 1, 1));
      if (c.mode === 'running') {
        return { mean: add(st.mean, mul(sub(batchMean, st.mean), c.momentum)), var: add(st.var, mul(sub(unbiased, st.var), c.momentum)) };
      }
      // per-step: move only this step's row.
      const s = stepIndex(c, opts.step, 'batchNorm.applyWithState');
      const idx = tensor([s], [1], { dtype: 'int32', backend: x.backend });
      const mask = mul(reshape(oneHot(idx, st.mean.shape[0]!, st.mean.dtype), [-1, 1]), c.momentum);
      return {
        mean: add(st.mean, mul(mask, sub(reshape(batchMean, [1, -1]), st.mean))),
        var: add(st.var, mul(mask, sub(reshape(unbiased, [1, -1]), st.var))),
      };
    });
    return { y, state: next };
  },

  /**
   * T tasks' batch norms at once (task-batched inner loops): gamma/beta [T, C] ([T, maxSteps + 1, C]
   * per step), each task's fast weights stacked, and x [N, T·C, ...] with task t's channels at
   * t·C .. (t+1)·C - 1. Batch statistics are then per task and channel, exactly as when each task
   * runs alone: it is one batch norm over T·C channels. Running statistics (opts.state, [C] or
   * [maxSteps + 1, C]) are shared by the tasks; they are read, never updated, here.
   */
  applyTasks(params: BatchNormParams, x: Tensor, cfg: BatchNormConfig, opts: BatchNormApplyOptions = {}): Tensor {
    const c = checkConfig(cfg, 'batchNorm.applyTasks');
    const g = params?.gamma;
    const stepped = rows(c) !== null;
    if (!g || g.rank !== (stepped ? 3 : 2) || !params.beta || params.beta.rank !== g.rank) {
      throw new ShapeError(`batchNorm.applyTasks: gamma ${g ? fmtShape(g.shape) : String(g)} and beta must be task-stacked [T, ${stepped ? 'maxSteps + 1, ' : ''}C] in mode '${c.mode}'`);
    }
    const t = g.shape[0]!, ch = g.shape[g.rank - 1]!;
    // [T, C] -> [T·C]; per step [T, S, C] -> [S, T·C] (rows indexed by step, as in forward)
    const flat = (p: Tensor): Tensor => (stepped ? reshape(permute(p, [1, 0, 2]), [p.shape[1]!, t * ch]) : reshape(p, [t * ch]));
    const st = opts.state as { mean?: Tensor; var?: Tensor } | undefined;
    // shared running statistics, repeated for every task
    const tile = (s: Tensor): Tensor => (stepped ? reshape(broadcastTo(reshape(s, [s.shape[0]!, 1, s.shape[1]!]), [s.shape[0]!, t, s.shape[1]!]), [s.shape[0]!, t * s.shape[1]!]) : reshape(broadcastTo(reshape(s, [1, -1]), [t, s.shape[0]!]), [-1]));
    const state = st && st.mean && st.var ? { mean: tile(st.mean), var: tile(st.var) } : undefined;
    return forward({ gamma: flat(g), beta: flat(params.beta) }, x, cfg, { training: opts.training, step: opts.step, state, reluMaxPool: opts.reluMaxPool }, 'batchNorm.applyTasks').y;
  },
};

function forward(params: BatchNormParams, x: Tensor, cfg: BatchNormConfig, opts: BatchNormApplyOptions, fn: string): { y: Tensor; batchMean?: Tensor; batchVar?: Tensor; count: number } {
  const c = checkConfig(cfg, fn);
  const channels = params.gamma.shape[params.gamma.rank - 1]!;
  const r = rows(c);
  const want = r === null ? [channels] : [r, channels];
  for (const [k, t] of [['gamma', params.gamma], ['beta', params.beta]] as const) {
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${fn}: ${k} ${fmtShape(t.shape)} does not fit mode '${c.mode}' (expected ${fmtShape(want)})`);
    }
  }
  const { count } = geometry(x, channels, fn);
  const s = c.mode === 'per-step' ? stepIndex(c, opts.step, fn) : 0;
  const pick = (t: Tensor): Tensor => (c.mode === 'per-step' ? row(t, s) : t);
  const state = opts.state as { mean?: Tensor; var?: Tensor } | undefined;
  const hasState = !!(state && state.mean && state.var);
  const useRunning = c.mode !== 'transductive' && !opts.training && (c.mode === 'running' || hasState);
  if (useRunning && !hasState) {
    throw new ShapeError(`${fn}: 'running' batch norm needs opts.state (running mean/var) when not training; pass training: true to use batch statistics`);
  }
  // one fused op per mode (ts/ops/batchnorm.ts), differentiable to any order
  if (useRunning) {
    const m = pick(state!.mean!), v = pick(state!.var!);
    if (m.shape[0] !== channels || v.shape[0] !== channels) throw new ShapeError(`${fn}: running statistics ${fmtShape(state!.mean!.shape)} do not fit ${channels} channels`);
    const y = batchNormInference(x, m, v, pick(params.gamma), pick(params.beta), c.eps);
    return { y: opts.reluMaxPool ? relu(maxPool2d(y, { kernelSize: 2 })) : y, count };
  }
  if (count < 2) throw new ShapeError(`${fn}: batch statistics need more than one value per channel, input is ${fmtShape(x.shape)}`);
  const b = (opts.reluMaxPool ? batchNormReluMaxPool : batchNormTrain)(x, pick(params.gamma), pick(params.beta), c.eps);
  return { y: b.y, batchMean: b.mean, batchVar: b.variance, count };
}
