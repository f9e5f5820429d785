// Meta Networks (Munkhdalai & Yu 2017). A base learner with slow weights (an embedding
// network f and an output layer W, b, learned across tasks) gets fast weights generated for
// each task by a meta learner from the base learner's loss gradients on the support set:
//   meta information:  ∇_i = ∂ℓ(W; x_i, y_i)/∂W for each support example, the gradient of the
//                      output layer (for a softmax layer, exactly f(x_i) (p_i − y_i)ᵀ);
//   fast weights:      W*_i = m(∇_i; G), m a coordinatewise MLP over the preprocessed gradient
//                      (log-magnitude and sign, p = 10), shared by all coordinates;
//   memory:            keys r_i = f(x_i), values W*_i;
//   query:             W*_q = Σ_i softmax_i(cos(f(x_q), r_i)) W*_i (attention over the memory);
//   layer-augmented:   logits(x_q) = W f(x_q) + b + W*_q f(x_q)  (slow and fast outputs summed).
// The slow weights (f, W, b) and the meta learner G are trained end to end on the query loss,
// the meta-gradient passing through the closed-form ∇_i too. This is the example-level part of
// MetaNet; the paper's task-level fast weights of the representation function (from an
// embedding loss on support pairs) are not implemented.

import { noGrad } from '../tensor/tape.js';
import { ShapeError, MetaError } from '../core/errors.js';
import { add, div, mul, relu, sqrt, square, sub } from '../ops/elementwise.js';
import { oneHot } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import { softmax } from '../ops/softmax.js';
import { expandDims, permute, reshape, transpose } from '../ops/shape-ops.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { linear } from '../nn/linear.js';
import type { Model } from '../nn/model.js';
import { preprocessGradient } from './lstm-optimizer.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { checkWays, scoreLogits, embeddingSize } from './scored.js';
import type { LearnerEntry } from './registry.js';
import type { MetaLearner, MetaTask } from './types.js';

type Lin = { w: Tensor; b: Tensor };
export type MetaNetParams = { embed: ParamTree; head: Lin; meta: { l1: Lin; l2: Lin } };

export interface MetaNetOptions {
  ways: number;
  /** hidden units of the coordinatewise meta learner m (default 20) */
  hidden?: number;
  /** preprocessing exponent (default 10) */
  p?: number;
  /** batch-norm flag for the embedding (default true) */
  training?: boolean;
  seed?: number;
}

const unit = (v: Tensor) => div(v, add(sqrt(sum(square(v), [-1], { keepDims: true })), 1e-8));

export function metaNetworks(model: Model<any>, o: MetaNetOptions): MetaLearner<MetaNetParams> {
  const name = 'metanet';
  if (!Number.isInteger(o.ways) || o.ways < 2) throw new MetaError(`${name}: ways must be an integer >= 2, got ${o.ways}`);
  if (typeof model.features !== 'function') throw new MetaError(`${name}: the embedding model must expose features() (conv4 and mlp do)`);
  const hidden = o.hidden ?? 20, p = o.p ?? 10, training = o.training ?? true, C = o.ways;

  const forward = (meta: MetaNetParams, task: MetaTask): Tensor => {
    checkWays(name, task, C);
    const zs = model.features!(meta.embed, task.support.x, { training }), zq = model.features!(meta.embed, task.query.x, { training });
    const n = zs.shape[0]!, D = zs.shape[1]!;
    if (meta.head.w.shape[0] !== D) throw new ShapeError(`${name}: the output layer takes ${meta.head.w.shape[0]} features, the embedding gives ${D}`);
    // Meta information: per-example output-layer gradients in closed form, on the tape (the
    // meta-gradient flows through them: exact, and cheap for one layer).
    const labels = noGrad(() => oneHot(task.support.y, C, zs.dtype));
    const delta = sub(softmax(linear.apply(meta.head, zs), -1), labels); // [n, C]
    const grads = mul(expandDims(zs, 2), expandDims(delta, 1)); // [n, D, C]
    const fast = reshape(linear.apply(meta.meta.l2, relu(linear.apply(meta.meta.l1, preprocessGradient(reshape(grads, [-1]), p)))), [n, D, C]);
    const attention = softmax(matmul(unit(zq), transpose(unit(zs))), -1); // [Q, n]
    const perMemory = matmul(expandDims(zq, 0), fast); // [n, Q, C]: f(x_q) W*_i
    const fastOut = sum(mul(permute(perMemory, [1, 0, 2]), expandDims(attention, 2)), [1]); // [Q, C]
    return add(linear.apply(meta.head, zq), fastOut);
  };

  return {
    name,
    init(params: ParamTree): MetaNetParams {
      const { D, io } = embeddingSize(name, params);
      const rng = new Rng(o.seed ?? 0);
      return {
        embed: params,
        head: linear.init(rng, D, C, io) as Lin,
        meta: { l1: linear.init(rng, 2, hidden, io) as Lin, l2: linear.init(rng, hidden, 1, io) as Lin },
      };
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
  options: { metaHidden: { kind: 'int', default: 20, min: 1, help: 'hidden units of the coordinatewise meta learner that writes the fast weights' } },
  build: (model, { options: o, task }) => metaNetworks(model, { ways: task.ways ?? (o['ways'] as number), hidden: o['metaHidden'] as number, seed: o['seed'] as number }),
  checkpoint: 'meta: Conv-4 embedding (slow), output layer (slow), meta learners; opt: Adam moments and step',
  describe: (o) => `meta learner ${String(o['metaHidden'])} hidden units`,
};
