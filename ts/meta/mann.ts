// Memory-augmented neural network (Santoro et al. 2016, "One-shot learning with memory-augmented
// neural networks"). An LSTM controller reads and writes an external memory M [N slots, W]:
//   input at step t:   [x_t, one-hot y_{t−1}, r_{t−1}]   (the label arrives one step late)
//   keys:              k_t = tanh(W_k h_t), one per read head
//   read (cosine):     w^r_t(i) = softmax_i( K(k_t, M_t(i)) ),  K = cosine similarity,  r_t = Σ_i w^r_t(i) M_t(i)
//   write (LRUA):      w^w_t = σ(α_t) w^r_{t−1} + (1 − σ(α_t)) w^lu_{t−1},
//                      the least-used slot is zeroed, then M_t(i) = M_{t−1}(i) + w^w_t(i) k_t
//   usage:             w^u_t = γ w^u_{t−1} + w^r_t + w^w_t,
//                      w^lu_t(i) = 1 if w^u_t(i) ≤ m(w^u_t, n) else 0, m(v, n) the n-th smallest (n = read heads)
//   output:            p(y_t) = softmax(W_o [h_t, r_t])
// The least-used mask is a hard selection (a constant to the gradient, as in the paper); ranks
// are n successive argmins in tensors (ties go to the lower slot), so no value is read back.
// Trained by cross-entropy at every step of episodes of `classes` × `instances` steps.

import { noGrad } from '../tensor/tape.js';
import { ShapeError, fmtShape, MetaError } from '../core/errors.js';
import { add, cast, div, equal, mul, sigmoid, sqrt, square, sub, tanh, where } from '../ops/elementwise.js';
import { gather, oneHot } from '../ops/indexing.js';
import { crossEntropy } from '../ops/losses.js';
import { matmul } from '../ops/matmul.js';
import { argmax, argmin, mean, sum } from '../ops/reduce.js';
import { softmax } from '../ops/softmax.js';
import { concat, expandDims, reshape, slice, stack, transpose } from '../ops/shape-ops.js';
import { full, tensor, zeros } from '../tensor/create.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { lstmCell, type LstmParams } from '../nn/lstm.js';
import { linear } from '../nn/linear.js';
import type { InitOptions, Model } from '../nn/model.js';
import { meanOfParts, meanOverTasks, tapeTaskGrad } from './metabatch.js';
import type { LearnerEntry, BuildContext } from './registry.js';
import type { MetaLearner, MetaTask } from './types.js';
import type { ParamTree } from '../tensor/tree.js';

export interface MannOptions {
  /** features per step (flattened image: 400 for the paper's 20×20) */
  inputSize: number;
  /** classes per episode (one-hot labels; default 5) */
  classes?: number;
  /** LSTM controller units (default 200) */
  controller?: number;
  /** memory slots N (default 128) */
  slots?: number;
  /** slot width W (default 40) */
  width?: number;
  /** read heads (default 4) */
  reads?: number;
  /** usage decay γ (default 0.95) */
  gamma?: number;
  /**
   * read the memory before this step's write, M_{t−1} (as some reimplementations do), instead
   * of M_t after it (default false: the paper's equations). Both learn a controlled task with
   * exact repeats equally fast (bench/results/mann.md).
   */
  readBeforeWrite?: boolean;
}

export type MannParams = {
  controller: LstmParams;
  key: { w: Tensor; b: Tensor };
  gate: { w: Tensor; b: Tensor };
  out: { w: Tensor; b: Tensor };
};

export interface Mann {
  readonly options: Required<MannOptions>;
  init(rng: Rng, opts?: InitOptions): MannParams;
  /** logits [B, T, classes] for sequences x [B, T, inputSize] with labels y int32 [B, T] (y_t is shown at t + 1) */
  apply(params: MannParams, x: Tensor, y: Tensor): Tensor;
  /** mean cross-entropy over every step, and the accuracy at every step (float [B, T], 1 = correct; no graph) */
  loss(params: MannParams, x: Tensor, y: Tensor): { loss: Tensor; correct: Tensor };
}

export function mann(o: MannOptions): Mann {
  return makeMann(o, 'mann');
}

// `who` names the function the user called in the option errors (mann or mannLearner)
function makeMann(o: MannOptions, who: string): Mann {
  const opts: Required<MannOptions> = { classes: 5, controller: 200, slots: 128, width: 40, reads: 4, gamma: 0.95, readBeforeWrite: false, ...o };
  for (const k of ['inputSize', 'classes', 'controller', 'slots', 'width', 'reads'] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new MetaError(`${who}: ${k} must be a positive integer, got ${String(opts[k])}`);
  }
  if (opts.reads > opts.slots) throw new MetaError(`${who}: ${opts.reads} read heads need at least as many memory slots, got ${opts.slots}`);
  if (!(opts.gamma >= 0 && opts.gamma <= 1)) throw new MetaError(`${who}: gamma must be in [0, 1], got ${opts.gamma}`);
  const { inputSize: D, classes: C, controller: H, slots: N, width: W, reads: R, gamma, readBeforeWrite } = opts;

  const normalize = (v: Tensor) => div(v, add(sqrt(sum(square(v), [-1], { keepDims: true })), 1e-8));

  /** 1 where a slot is among the n least used (n successive argmins; ties go to the lower slot), as constants. */
  const leastUsed = (usage: Tensor, n: number): { mask: Tensor; least: Tensor } =>
    noGrad(() => {
      let least: Tensor | null = null, mask: Tensor | null = null;
      for (let k = 0; k < n; k++) {
        const pick = oneHot(argmin(mask ? where(mask, Infinity, usage) : usage, -1), N, usage.dtype);
        least ??= pick;
        mask = mask ? add(mask, pick) : pick;
      }
      return { mask: mask!, least: least! };
    });

  const run = (p: MannParams, x: Tensor, y: Tensor): Tensor => {
    if (x.rank !== 3 || x.shape[2] !== D) throw new ShapeError(`mann.apply: x ${fmtShape(x.shape)} must be [B, T, ${D}]`);
    if (y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== x.shape[1] || y.dtype !== 'int32') throw new ShapeError(`mann.apply: y ${fmtShape(y.shape)} must be int32 [${x.shape[0]}, ${x.shape[1]}]`);
    const B = x.shape[0]!, T = x.shape[1]!;
    const dt = { dtype: x.dtype, backend: x.backend };
    const labels = oneHot(y, C, x.dtype); // [B, T, C]
    let state = lstmCell.initState(B, H, dt);
    let memory = full([B, N, W], 1e-6, dt);
    let usage = zeros([B, N], dt);
    let readW = zeros([B, R, N], dt);
    let read = zeros([B, R * W], dt);
    let lu = leastUsed(usage, R);
    const outs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const xt = reshape(slice(x, [0, t, 0], [B, 1, D]), [B, D]);
      const prevLabel = t === 0 ? zeros([B, C], dt) : reshape(slice(labels, [0, t - 1, 0], [B, 1, C]), [B, C]);
      state = lstmCell.apply(p.controller, concat([xt, prevLabel, read], 1), state);
      const h = state.h;
      const key = reshape(tanh(linear.apply(p.key, h)), [B, R, W]);
      const g = expandDims(sigmoid(linear.apply(p.gate, h)), 2); // [B, R, 1]
      // write: the previous read weights or the previous least-used slots, into a memory whose least-used slot is cleared
      const writeW = add(mul(g, readW), mul(sub(1, g), expandDims(lu.mask, 1))); // [B, R, N]
      const written = add(mul(memory, expandDims(sub(1, lu.least), 2)), matmul(transpose(writeW), key));
      // read by cosine similarity, from the memory after this step's write (M_t; M_{t−1} with readBeforeWrite)
      const from = readBeforeWrite ? memory : written;
      readW = softmax(matmul(normalize(key), transpose(normalize(from))), -1); // [B, R, N]
      const r = matmul(readW, from); // [B, R, W]
      memory = written;
      usage = add(mul(usage, gamma), sum(add(readW, writeW), [1]));
      lu = leastUsed(usage, R);
      read = reshape(r, [B, R * W]);
      outs.push(linear.apply(p.out, concat([h, read], 1)));
    }
    return stack(outs, 1);
  };

  return {
    options: opts,
    init(rng: Rng, io: InitOptions = {}): MannParams {
      return {
        controller: lstmCell.init(rng, D + C + R * W, H, io),
        key: linear.init(rng, H, R * W, io) as { w: Tensor; b: Tensor },
        gate: linear.init(rng, H, R, io) as { w: Tensor; b: Tensor },
        out: linear.init(rng, H + R * W, C, io) as { w: Tensor; b: Tensor },
      };
    },
    apply: run,
    loss(p, x, y) {
      const logits = run(p, x, y);
      const B = x.shape[0]!, T = x.shape[1]!;
      const loss = crossEntropy(reshape(logits, [B * T, C]), reshape(y, [B * T]));
      const correct = noGrad(() => cast(equal(argmax(logits, -1), y), x.dtype));
      return { loss, correct };
    },
  };
}

/** Accuracy by presentation number (1-based) from per-step correctness [B, T] and the sequences' instance counts. */
export async function accuracyByInstance(correct: Tensor, instance: Int32Array, instances: number): Promise<{ correct: number[]; total: number[] }> {
  const c = await correct.data();
  if (c.length !== instance.length) throw new ShapeError(`accuracyByInstance: ${c.length} steps scored, ${instance.length} instance counts`);
  const hit = new Array<number>(instances).fill(0), total = new Array<number>(instances).fill(0);
  instance.forEach((k, i) => {
    if (k < 1 || k > instances) throw new ShapeError(`accuracyByInstance: instance ${k} outside 1..${instances}`);
    total[k - 1]!++;
    hit[k - 1]! += c[i]!;
  });
  return { correct: hit, total };
}

/**
 * MANN as a MetaLearner. On N-way K-shot tasks the support examples in a random order, then the
 * query examples in a random order, form one sequence (labels one step late); the loss is the
 * cross-entropy at every step (as in training on whole episodes), the accuracy is the query
 * steps'. With `sequences` (label-sequence tasks: support = query = one episode in presentation
 * order, e.g. the omniglot-sequences source) the support is the sequence as given and loss and
 * accuracy are over every step. Meta-parameters are the MANN's own: init keeps MannParams it is
 * given (from mannModel), and makes fresh ones from its seed for any other tree.
 */
export function mannLearner(o: MannOptions & { seed?: number; sequences?: boolean }): MetaLearner<MannParams> & { readonly net: Mann } {
  const name = 'mann';
  const net = makeMann(o, 'mannLearner');
  let rng = new Rng(o.seed ?? 0);
  const D = net.options.inputSize;
  const check = (what: string, b: MetaTask['support']) => {
    if (b.x.size / Math.max(1, b.x.shape[0]!) !== D) throw new ShapeError(`${name}: ${what} x ${fmtShape(b.x.shape)} has ${b.x.size / Math.max(1, b.x.shape[0]!)} features per example, the MANN reads ${D}`);
    if (b.y.dtype !== 'int32' || b.y.rank !== 1) throw new ShapeError(`${name}: ${what} labels must be int32 [N], got ${fmtShape(b.y.shape)} ${b.y.dtype}`);
  };
  const sequence = (task: MetaTask, r: Rng) => {
    const ns = task.support.y.shape[0]!, nq = task.query.y.shape[0]!;
    check('support', task.support);
    check('query', task.query);
    const order = [...r.shuffle(Array.from({ length: ns }, (_, i) => i)), ...r.shuffle(Array.from({ length: nq }, (_, i) => ns + i))];
    const idx = tensor(Int32Array.from(order), [ns + nq], { dtype: 'int32', backend: task.support.x.backend });
    const x = gather(concat([reshape(task.support.x, [ns, D]), reshape(task.query.x, [nq, D])], 0), idx, 0);
    const y = gather(concat([task.support.y, task.query.y], 0), idx, 0);
    return { x: reshape(x, [1, ns + nq, D]), y: reshape(y, [1, ns + nq]), ns, nq };
  };
  // A task as one sequence [1, T, D]: label-sequence tasks as given, episodes shuffled (support, then query).
  const sequenceOf = (task: MetaTask, r: Rng) => {
    if (!o.sequences) return sequence(task, r);
    check('sequence', task.support);
    const T = task.support.y.shape[0]!;
    return { x: reshape(task.support.x, [1, T, D]), y: reshape(task.support.y, [1, T]), ns: 0, nq: T };
  };
  // Tasks of the same length as one batch of sequences [B, T, D], one graph: the loss is the mean
  // over every task's steps (= the mean of the per-task means), the accuracy the query steps'.
  const score = (meta: MannParams, tasks: readonly MetaTask[], r: Rng) => {
    const seqs = tasks.map((t) => sequenceOf(t, r));
    const x = seqs.length === 1 ? seqs[0]!.x : concat(seqs.map((q) => q.x), 0);
    const y = seqs.length === 1 ? seqs[0]!.y : concat(seqs.map((q) => q.y), 0);
    const { ns, nq } = seqs[0]!;
    const { loss, correct } = net.loss(meta, x, y);
    return { loss, accuracy: noGrad(() => mean(slice(correct, [0, ns], [tasks.length, nq]))) };
  };
  const steps = (t: MetaTask) => (o.sequences ? `${t.support.y.shape[0]}` : `${t.support.y.shape[0]}+${t.query.y.shape[0]}`);
  const isMann = (p: ParamTree): p is MannParams => typeof p === 'object' && p !== null && 'controller' in p && 'key' in p && 'gate' in p && 'out' in p;
  return {
    name,
    net,
    init: (params) => (isMann(params) ? params : net.init(rng.split())),
    // iteration i's sequence orders come from (seed, i): a resumed run sees what an uninterrupted one would
    setIteration: (i) => {
      rng = new Rng([((o.seed ?? 0) + 0x6d2b79f5) >>> 0, i]); // a stream of its own (the CLI draws tasks from [seed, i + 1])
    },
    // A meta-batch of equally long tasks runs as one batch of sequences (the same meta-gradient as
    // task by task, in one task's number of kernel calls); tasks of different lengths one at a time.
    metaGrad: (meta, tasks) => {
      if (Array.isArray(tasks) && tasks.length > 1 && tasks.every((t) => steps(t) === steps(tasks[0]!))) {
        return meanOfParts(meta, 1, 1, () => tapeTaskGrad(meta, (m) => score(m, tasks, rng)));
      }
      return meanOverTasks(name, meta, tasks, (task) => tapeTaskGrad(meta, (m) => score(m, [task], rng)));
    },
    scoreTask: (meta, task) => noGrad(() => score(meta, [task], new Rng([o.seed ?? 0, 1]))),
  };
}

/** The MANN as a Model, so a training run initializes it from its seed (apply needs the labels too: use the learner). */
export function mannModel(o: MannOptions): Model<MannParams> {
  const net = mann(o);
  return {
    init: (rng, io) => net.init(rng, io),
    apply: () => {
      throw new MetaError('mann: the MANN reads (x, y) sequences, not a batch of inputs; use mann(...).apply(params, x, y) or mannLearner');
    },
  };
}

const mannOptionsOf = (ctx: BuildContext): MannOptions => {
  const o = ctx.options;
  return {
    inputSize: ctx.task.inputShape.reduce((a, b) => a * b, 1),
    classes: ctx.task.ways ?? (o['ways'] as number),
    controller: o['controller'] as number, slots: o['slots'] as number, width: o['width'] as number, reads: o['reads'] as number, gamma: o['gamma'] as number,
    readBeforeWrite: o['readBeforeWrite'] === true,
  };
};

export const mannEntry: LearnerEntry = {
  name: 'mann',
  family: 'model-based',
  summary: 'memory-augmented neural network: LSTM controller, cosine reads, LRUA writes (Santoro et al. 2016)',
  tasks: ['omniglot-sequences', 'omniglot'],
  options: {
    controller: { kind: 'int', default: 200, min: 1, help: 'LSTM controller units' },
    slots: { kind: 'int', default: 128, min: 1, help: 'memory slots' },
    width: { kind: 'int', default: 40, min: 1, help: 'memory slot width' },
    reads: { kind: 'int', default: 4, min: 1, help: 'read heads (also the n of the n least used slots written)' },
    gamma: { kind: 'num', default: 0.95, min: 0, max: 1, help: 'usage decay' },
    readBeforeWrite: { kind: 'bool', default: false, help: "read the memory before the step's write (default: after it, as the paper's equations)" },
  },
  // the paper: 20×20 images, meta-batches of 16 episodes
  overrides: { imageSize: 20, metaBatch: 16 },
  model: (ctx) => mannModel(mannOptionsOf(ctx)),
  build: (_model, ctx) => mannLearner({ ...mannOptionsOf(ctx), seed: ctx.options['seed'] as number, sequences: ctx.task.sequences === true }),
  checkpoint: 'meta: controller LSTM, key, gate and output layers; opt: Adam moments and step',
  describe: (o) => `controller ${String(o['controller'])}, memory ${String(o['slots'])}×${String(o['width'])}, ${String(o['reads'])} read head(s), γ=${String(o['gamma'])}${o['readBeforeWrite'] ? ', reads before writes' : ''}`,
};
