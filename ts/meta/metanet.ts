// Meta Networks (Munkhdalai & Yu 2017). A base learner with slow weights gets fast weights
// generated for each task by meta learners from loss gradients (the "meta information"), at two
// levels, and combines slow and fast weights by layer augmentation.
//
// Task level — the representation u that gives the memory's keys (the embedding f, Conv-4,
// topped by a layer Q, q that is layer-augmented):
//   pairs (x_a, x_b) of support examples (each example with its neighbour and with the one
//   ⌊n/2⌋ further, 2n pairs), the representation loss a contrastive one:
//     h = ReLU(f(x) Q + q),  P_t = σ(w_p · |h_a − h_b| + b_p),  ℓ_t = BCE(P_t, [y_a = y_b]),
//   its gradients ∇_t = ∂ℓ_t/∂(Q, q) in closed form (on the tape),
//   task-level fast weights  (Q*, q*) = d(G; ∇_1 … ∇_T),  d an LSTM run over the T gradients,
//     coordinatewise (shared by all coordinates, log/sign preprocessing with p = 10), its
//     last hidden state → one output per coordinate (the paper: an LSTM; an MLP converged worse),
//   layer-augmented:  u(x) = ReLU(f(x) Q + q) + ReLU(f(x) Q* + q*).
// Example level — the output layer W, b of the base learner on f:
//   ∇_i = ∂ℓ(W; x_i, y_i)/∂W per support example, closed form f(x_i)(p_i − y_i)ᵀ;
//   W*_i = m(Z; ∇_i), m a coordinatewise MLP over the preprocessed gradient;
//   memory: keys r_i = u(x_i), values W*_i;
//   query:  W*_q = Σ_i softmax_i(cos(u(x_q), r_i)) W*_i,
//   layer-augmented:  logits(x_q) = f(x_q) W + b + f(x_q) W*_q  (the output layer has no
//   nonlinearity, so slow and fast outputs are summed).
// All slow weights (f, Q, q, w_p, b_p, W, b) and the meta learners (d's G, m's Z) are trained
// end to end on the query loss; the meta-gradient passes through both closed-form gradients.
// Simplifications: the base learner is the output layer on the shared embedding f (the paper's
// b is a separate network with fast weights in its layers), and only u's top layer Q gets
// task-level fast weights (the paper augments u's layers). `taskLevel: false` keeps the keys
// f(x) (example level only).

import { noGrad } from '../tensor/tape.js';
import { ShapeError, MetaError } from '../core/errors.js';
import { abs, add, cast, div, equal, greater, mul, neg, relu, sigmoid, sign, sqrt, square, sub } from '../ops/elementwise.js';
import { gather, oneHot } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import { softmax } from '../ops/softmax.js';
import { concat, expandDims, permute, reshape, slice, transpose } from '../ops/shape-ops.js';
import { Rng } from '../ops/rng.js';
import { tensor, zerosLike } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { linear } from '../nn/linear.js';
import { lstmCell, type LstmParams } from '../nn/lstm.js';
import type { Model } from '../nn/model.js';
import { preprocessGradient } from './lstm-optimizer.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { checkWays, scoreLogits, embeddingSize } from './scored.js';
import type { LearnerEntry } from './registry.js';
import type { MetaLearner, MetaTask } from './types.js';

type Lin = { w: Tensor; b: Tensor };
/** slow weights: embed (f), rep (u's top layer Q, q), pair (the representation loss's w_p, b_p), head (W, b); meta learners: meta (m), task (d) */
export type MetaNetParams = {
  embed: ParamTree;
  head: Lin;
  meta: { l1: Lin; l2: Lin };
  rep?: Lin;
  pair?: Lin;
  task?: { lstm: LstmParams; out: Lin };
};

export interface MetaNetOptions {
  ways: number;
  /** hidden units of the coordinatewise meta learner m (default 20) */
  hidden?: number;
  /** task-level fast weights for the representation u (default true) */
  taskLevel?: boolean;
  /** hidden units of d, the coordinatewise LSTM writing the task-level fast weights (default 20) */
  taskHidden?: number;
  /** preprocessing exponent (default 10) */
  p?: number;
  /** batch-norm flag for the embedding (default true) */
  training?: boolean;
  seed?: number;
}

const unit = (v: Tensor) => div(v, add(sqrt(sum(square(v), [-1], { keepDims: true })), 1e-8));

/** The support pairs of the representation loss: each example with its neighbour, and (n > 2) with the one ⌊n/2⌋ further. */
export function metaNetPairs(n: number): { a: number[]; b: number[] } {
  const a: number[] = [], b: number[] = [];
  for (const off of n > 2 ? [1, Math.floor(n / 2)] : [1]) {
    for (let i = 0; i < n; i++) {
      a.push(i);
      b.push((i + off) % n);
    }
  }
  return { a, b };
}

/**
 * The meta information of the task level: for each pair t, the gradient of the contrastive
 * representation loss ℓ_t = BCE(σ(w_p · |h_a − h_b| + b_p), [y_a = y_b]), h = ReLU(z Q + q),
 * with respect to (Q, q), in closed form: [T, D·H + H] (Q's entries row-major, then q's).
 * Written in differentiable ops (ReLU's and |·|'s derivatives are constants), so the
 * meta-gradient flows through it.
 */
export function representationGradients(rep: Lin, pair: Lin, z: Tensor, y: Tensor): Tensor {
  const n = z.shape[0]!, D = z.shape[1]!, H = rep.w.shape[1]!;
  const { a, b } = metaNetPairs(n);
  const io = { dtype: 'int32' as const, backend: z.backend };
  const ia = tensor(Int32Array.from(a), [a.length], io), ib = tensor(Int32Array.from(b), [b.length], io);
  const h = relu(linear.apply(rep, z)); // [n, H]
  const ha = gather(h, ia, 0), hb = gather(h, ib, 0), za = gather(z, ia, 0), zb = gather(z, ib, 0);
  const diff = sub(ha, hb);
  const P = sigmoid(linear.apply(pair, abs(diff))); // [T, 1]
  const same = noGrad(() => cast(reshape(equal(gather(y, ia, 0), gather(y, ib, 0)), [-1, 1]), z.dtype));
  const dh = mul(mul(sub(P, same), reshape(pair.w, [1, H])), noGrad(() => sign(diff))); // ∂ℓ/∂h_a = −∂ℓ/∂h_b, [T, H]
  const da = mul(dh, noGrad(() => cast(greater(ha, 0), z.dtype))), db = mul(neg(dh), noGrad(() => cast(greater(hb, 0), z.dtype)));
  const gQ = add(mul(expandDims(za, 2), expandDims(da, 1)), mul(expandDims(zb, 2), expandDims(db, 1))); // [T, D, H]
  return concat([reshape(gQ, [a.length, D * H]), add(da, db)], 1);
}

export function metaNetworks(model: Model<any>, o: MetaNetOptions): MetaLearner<MetaNetParams> {
  const name = 'metanet';
  if (!Number.isInteger(o.ways) || o.ways < 2) throw new MetaError(`${name}: ways must be an integer >= 2, got ${o.ways}`);
  if (typeof model.features !== 'function') throw new MetaError(`${name}: the embedding model must expose features() (conv4 and mlp do)`);
  const hidden = o.hidden ?? 20, taskHidden = o.taskHidden ?? 20, p = o.p ?? 10, training = o.training ?? true, C = o.ways;
  const taskLevel = o.taskLevel ?? true;
  for (const [k, v] of [['hidden', hidden], ['taskHidden', taskHidden]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new MetaError(`${name}: ${k} must be a positive integer, got ${v}`);
  }

  /** u(x) = ReLU(f Q + q) + ReLU(f Q* + q*) for the support and query embeddings, with (Q*, q*) written by d from the support's pair gradients. */
  const representation = (meta: MetaNetParams, zs: Tensor, zq: Tensor, y: Tensor): { rs: Tensor; rq: Tensor } => {
    const { rep, pair, task } = meta;
    if (!rep || !pair || !task) throw new MetaError(`${name}: task-level fast weights need the parameters rep, pair and task (init with taskLevel: true)`);
    const D = zs.shape[1]!, H = rep.w.shape[1]!;
    const g = representationGradients(rep, pair, zs, y); // [T, D·H + H]
    const T = g.shape[0]!, coords = g.shape[1]!;
    let state = lstmCell.initState(coords, taskHidden, { dtype: zs.dtype, backend: zs.backend });
    for (let t = 0; t < T; t++) state = lstmCell.apply(task.lstm, preprocessGradient(reshape(slice(g, [t, 0], [1, coords]), [-1]), p), state);
    const fast = reshape(linear.apply(task.out, state.h), [coords]);
    const fastRep = { w: reshape(slice(fast, [0], [D * H]), [D, H]), b: slice(fast, [D * H], [H]) };
    const u = (z: Tensor) => add(relu(linear.apply(rep, z)), relu(linear.apply(fastRep, z)));
    return { rs: u(zs), rq: u(zq) };
  };

  const forward = (meta: MetaNetParams, task: MetaTask): Tensor => {
    checkWays(name, task, C);
    const zs = model.features!(meta.embed, task.support.x, { training }), zq = model.features!(meta.embed, task.query.x, { training });
    const n = zs.shape[0]!, D = zs.shape[1]!;
    if (meta.head.w.shape[0] !== D) throw new ShapeError(`${name}: the output layer takes ${meta.head.w.shape[0]} features, the embedding gives ${D}`);
    // Example level: per-example output-layer gradients in closed form, on the tape (the
    // meta-gradient flows through them: exact, and cheap for one layer).
    const labels = noGrad(() => oneHot(task.support.y, C, zs.dtype));
    const delta = sub(softmax(linear.apply(meta.head, zs), -1), labels); // [n, C]
    const grads = mul(expandDims(zs, 2), expandDims(delta, 1)); // [n, D, C]
    const fast = reshape(linear.apply(meta.meta.l2, relu(linear.apply(meta.meta.l1, preprocessGradient(reshape(grads, [-1]), p)))), [n, D, C]);
    // Task level: the keys of the memory from the layer-augmented representation u.
    const { rs, rq } = taskLevel ? representation(meta, zs, zq, task.support.y) : { rs: zs, rq: zq };
    const attention = softmax(matmul(unit(rq), transpose(unit(rs))), -1); // [Q, n]
    const perMemory = matmul(expandDims(zq, 0), fast); // [n, Q, C]: f(x_q) W*_i
    const fastOut = sum(mul(permute(perMemory, [1, 0, 2]), expandDims(attention, 2)), [1]); // [Q, C]
    return add(linear.apply(meta.head, zq), fastOut);
  };

  return {
    name,
    init(params: ParamTree): MetaNetParams {
      const { D, io } = embeddingSize(name, params);
      const rng = new Rng(o.seed ?? 0);
      const out: MetaNetParams = {
        embed: params,
        head: linear.init(rng, D, C, io) as Lin,
        meta: { l1: linear.init(rng, 2, hidden, io) as Lin, l2: linear.init(rng, hidden, 1, io) as Lin },
      };
      if (taskLevel) {
        out.rep = linear.init(rng, D, D, io) as Lin;
        out.pair = linear.init(rng, D, 1, io) as Lin;
        // d's output bias starts at 0, so about half the fast units of u start active (a negative
        // bias shared by every coordinate could leave the whole fast branch ReLU-dead)
        const dOut = linear.init(rng, taskHidden, 1, io) as Lin;
        out.task = { lstm: lstmCell.init(rng, 2, taskHidden, io), out: { w: dOut.w, b: zerosLike(dOut.b) } };
        dOut.b.dispose();
      }
      return out;
    },
    metaGrad: (meta, tasks) => meanOverTasks(name, meta, tasks, (task) => tapeTaskGrad(meta, (m) => scoreLogits(name, forward(m, task), task.query.y))),
    scoreTask: (meta, task, opts) => noGrad(() => scoreLogits(name, forward(meta, task), task.query.y, opts?.loss)),
  };
}

export const metaNetworksEntry: LearnerEntry = {
  name: 'metanet',
  family: 'model-based',
  summary: 'Meta Networks: fast weights generated from support-set loss gradients, slow + fast layers (Munkhdalai & Yu 2017)',
  tasks: ['omniglot'],
  options: {
    metaHidden: { kind: 'int', default: 20, min: 1, help: 'hidden units of m, the coordinatewise MLP that writes the example-level fast weights' },
    taskLevel: { kind: 'bool', default: true, help: 'task-level fast weights for the representation (keys of the memory)' },
    taskHidden: { kind: 'int', default: 20, min: 1, help: 'hidden units of d, the coordinatewise LSTM that writes the task-level fast weights' },
  },
  build: (model, { options: o, task }) => metaNetworks(model, {
    ways: task.ways ?? (o['ways'] as number), hidden: o['metaHidden'] as number, taskLevel: o['taskLevel'] as boolean, taskHidden: o['taskHidden'] as number, seed: o['seed'] as number,
  }),
  checkpoint: 'meta: slow weights (Conv-4 embedding, representation layer and pair loss, output layer) and the meta learners m and d; opt: Adam moments and step',
  describe: (o) => `meta learners m ${String(o['metaHidden'])}${o['taskLevel'] ? `, d ${String(o['taskHidden'])} hidden units (example and task level)` : ' hidden units (example level only)'}`,
};
