// The meta-learner LSTM (Ravi & Larochelle 2017, "Optimization as a model for few-shot learning").
// Gradient descent θ_t = θ_{t−1} − α ∇_t is an LSTM cell update c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t with
// c̃_t = −∇_t, f_t = 1, i_t = α. The meta-learner learns the gates instead:
//     i_t = σ(W_I · [h_t, θ_{t−1}, i_{t−1}] + b_I)    (a learned learning rate per coordinate)
//     f_t = σ(W_F · [h_t, θ_{t−1}, f_{t−1}] + b_F)    (learned shrinkage of the parameters)
//     θ_t = c_t = f_t ⊙ θ_{t−1} − i_t ⊙ ∇_t
// where h_t is a first, ordinary LSTM (20 units) over the preprocessed (∇_t, L_t) (the
// log/sign preprocessing of Andrychowicz et al., p = 10). Every coordinate of the learner runs
// the same meta-learner (parameter sharing), and the cell's initial state c_0 is learned: it
// is the learner's initialization θ_0. Meta-training backpropagates the query loss after T
// updates through the updates into the gates and c_0; the learner's gradients ∇_t and losses
// are inputs, not differentiated (the paper's simplification). Batch norm uses each batch's
// own statistics at meta-training and meta-test alike (the paper's "test statistics per
// episode"; no running averages are kept).

import { MetaError } from '../core/errors.js';
import { gradients } from '../autodiff/backward.js';
import { detach, noGrad, requireGrad } from '../tensor/tape.js';
import { mul, sigmoid, sub } from '../ops/elementwise.js';
import { linear as linearOp } from '../ops/matmul.js';
import { broadcastTo, concat, reshape, split } from '../ops/shape-ops.js';
import { full } from '../tensor/create.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';
import { lstmCell, type LstmParams } from '../nn/lstm.js';
import type { Model } from '../nn/model.js';
import { batchLoss } from './inner.js';
import { preprocessGradient } from './lstm-optimizer.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { scoreLogits } from './scored.js';
import type { LearnerEntry } from './registry.js';
import type { MetaLearner, MetaTask } from './types.js';

type Gate = { w: Tensor; b: Tensor };
export type MetaLstmParams = { theta0: ParamTree; lstm: LstmParams; input: Gate; forget: Gate };

export interface MetaLstmOptions {
  ways: number;
  /** learner updates per episode (default 5; the paper uses 12 for 5-shot) */
  steps?: number;
  /** units of the first LSTM (default 20) */
  hidden?: number;
  /** preprocessing exponent (default 10) */
  p?: number;
  /** batch-norm flag handed to the learner (default true: batch statistics) */
  training?: boolean;
  seed?: number;
}

/** Observe or replace the learner's gradient and loss at each update (to check the meta-gradient with them held constant). */
export interface MetaLstmHooks {
  given?: (t: number) => { grad: Tensor; loss: Tensor } | undefined;
  onStep?: (t: number, g: { grad: Tensor; loss: Tensor }) => void;
}

export interface MetaLstmLearner extends MetaLearner<MetaLstmParams> {
  /** the adapted learner parameters c_T (on the tape when meta is traced) */
  adapt(meta: MetaLstmParams, task: MetaTask, hooks?: MetaLstmHooks): ParamTree;
  /** the query loss and accuracy of adapted parameters */
  query(meta: MetaLstmParams, task: MetaTask, fast: ParamTree): { loss: Tensor; accuracy: Tensor };
}

export function metaLearnerLstm(model: Model<any>, o: MetaLstmOptions): MetaLstmLearner {
  const name = 'meta-lstm';
  const steps = o.steps ?? 5, hidden = o.hidden ?? 20, p = o.p ?? 10, training = o.training ?? true;
  if (!Number.isInteger(o.ways) || o.ways < 2) throw new MetaError(`${name}: ways must be an integer >= 2, got ${o.ways}`);
  if (!Number.isInteger(steps) || steps < 1) throw new MetaError(`${name}: steps must be a positive integer, got ${steps}`);

  /** The learner's parameters after `steps` meta-learner updates on the support set (c_T). */
  const adapt = (meta: MetaLstmParams, task: MetaTask, hooks: MetaLstmHooks = {}): ParamTree => {
    const like = meta.theta0;
    const leaves = treeFlatten(like).leaves;
    const n = leaves.reduce((s, l) => s + l.size, 0);
    const dt = { dtype: leaves[0]!.dtype, backend: leaves[0]!.backend };
    let c = concat(leaves.map((l) => reshape(l, [-1])), 0); // [n]: the cell state is the learner's parameters
    let state = lstmCell.initState(n, hidden, dt);
    let iPrev = full([n, 1], 0, dt), fPrev = full([n, 1], 1, dt);
    const unflat = (v: Tensor) => split(v, leaves.map((l) => l.size), 0).map((x, k) => reshape(x, leaves[k]!.shape));
    for (let t = 0; t < steps; t++) {
      // ∇_t and L_t enter as data (no second derivatives).
      let given = hooks.given?.(t);
      if (!given) {
        const at = unflat(detach(c)).map((x) => requireGrad(x));
        const { loss } = batchLoss(model, treeUnflatten(like, at), task.support, { training });
        given = { grad: detach(concat(gradients(loss, at).map((g) => reshape(g, [-1])), 0)), loss: detach(loss) };
      }
      hooks.onStep?.(t, given);
      const { grad, loss } = given;
      const lossIn = broadcastTo(preprocessGradient(reshape(loss, [1]), p), [n, 2]);
      state = lstmCell.apply(meta.lstm, concat([preprocessGradient(grad, p), lossIn], 1), state);
      const theta = reshape(c, [n, 1]);
      const i = sigmoid(linearOp(concat([state.h, theta, iPrev], 1), meta.input.w, meta.input.b)); // [n, 1]
      const f = sigmoid(linearOp(concat([state.h, theta, fPrev], 1), meta.forget.w, meta.forget.b));
      c = sub(mul(reshape(f, [n]), c), mul(reshape(i, [n]), grad));
      iPrev = i;
      fPrev = f;
    }
    return treeUnflatten(like, unflat(c));
  };

  const query = (meta: MetaLstmParams, task: MetaTask, fast: ParamTree) => scoreLogits(name, model.apply(fast, task.query.x, { training }), task.query.y);

  return {
    name,
    adapt,
    query,
    init(params: ParamTree): MetaLstmParams {
      const first = treeFlatten(params).leaves[0];
      if (!first) throw new MetaError(`${name}: the learner has no parameters`);
      const rng = new Rng(o.seed ?? 0);
      const io = { dtype: first.dtype, backend: first.backend };
      // The paper's gate initialization: forget bias in [4, 6] (f ≈ 1, keep θ), input bias in
      // [−5, −4] (i ≈ 0.01, a small learning rate): the meta-learner starts as gradient descent.
      const gate = (lo: number, hi: number): Gate => ({ w: rng.uniform([hidden + 2, 1], -0.01, 0.01, io), b: rng.uniform([1], lo, hi, io) });
      return { theta0: params, lstm: lstmCell.init(rng, 4, hidden, io), input: gate(-5, -4), forget: gate(4, 6) };
    },
    metaGrad: (meta, tasks) => meanOverTasks(name, meta, tasks, (task) => tapeTaskGrad(meta, (m) => query(m, task, adapt(m, task)))),
    scoreTask: (meta, task) => {
      // the adaptation itself needs gradients of the learner's loss; nothing is kept after
      const fast = adaptDetached(meta, task);
      return noGrad(() => query(meta, task, fast));
    },
  };

  function adaptDetached(meta: MetaLstmParams, task: MetaTask): ParamTree {
    const fast = adapt(meta, task);
    return treeUnflatten(fast, treeFlatten(fast).leaves.map(detach));
  }
}

export const metaLearnerLstmEntry: LearnerEntry = {
  name: 'meta-lstm',
  family: 'learned-optimizer',
  summary: "meta-learner LSTM: the learner's parameters are an LSTM's cell state, learned gates update them (Ravi & Larochelle 2017)",
  tasks: ['omniglot'],
  options: { steps: { kind: 'int', default: 5, min: 1, help: 'learner updates per episode on the support set (the paper: 5 to 12)' } },
  build: (model, { options: o, task }) => metaLearnerLstm(model, { ways: task.ways ?? (o['ways'] as number), steps: o['steps'] as number, seed: o['seed'] as number }),
  checkpoint: "meta: the learner's initialization c₀ (Conv-4), the LSTM and its input and forget gates; opt: Adam moments and step",
  describe: (o) => `${String(o['steps'])} learner update(s)`,
};
