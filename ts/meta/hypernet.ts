// A task-conditioned hypernetwork for few-shot classification (the HyperNetworks idea of Ha et
// al. 2016 applied to the classifier head): an embedding network f (Conv-4) maps each support
// image to a feature vector, the mean embedding of each class c_k = mean_i f(x_i) is mapped
// by the hypernetwork g to that class's row of the head,
//     [w_k, b_k] = g(c_k),     logits_k(x) = w_k · f(x) + b_k,
// and f and g are trained end to end on the query cross-entropy. No inner loop: the head is
// written from the support set in one forward pass.

import { ShapeError, MetaError } from '../core/errors.js';
import { noGrad } from '../tensor/tape.js';
import { relu } from '../ops/elementwise.js';
import { reshape, split, transpose } from '../ops/shape-ops.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { linear } from '../nn/linear.js';
import type { Model } from '../nn/model.js';
import { classMeans } from './metric.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { checkWays, scoreLogits, embeddingSize } from './scored.js';
import type { LearnerEntry } from './registry.js';
import type { MetaLearner, MetaTask } from './types.js';

export type HypernetParams = { embed: ParamTree; hyper: { l1: { w: Tensor; b: Tensor }; l2: { w: Tensor; b: Tensor } } };

export interface HypernetOptions {
  ways: number;
  /** hidden units of the hypernetwork g (default 256) */
  hidden?: number;
  /** batch-norm flag for the embedding (default true: each set normalized by its own statistics) */
  training?: boolean;
  seed?: number;
}

export function hypernet(model: Model<any>, o: HypernetOptions): MetaLearner<HypernetParams> {
  const name = 'hypernet';
  if (!Number.isInteger(o.ways) || o.ways < 2) throw new MetaError(`${name}: ways must be an integer >= 2, got ${o.ways}`);
  if (typeof model.features !== 'function') throw new MetaError(`${name}: the embedding model must expose features() (conv4 and mlp do)`);
  const hidden = o.hidden ?? 256, training = o.training ?? true;
  const features = (p: ParamTree, x: Tensor) => model.features!(p, x, { training });

  const head = (meta: HypernetParams, task: MetaTask): Tensor => {
    checkWays(name, task, o.ways);
    const zs = features(meta.embed, task.support.x), zq = features(meta.embed, task.query.x);
    const D = zs.shape[1]!;
    if (meta.hyper.l2.w.shape[1] !== D + 1) throw new ShapeError(`${name}: the hypernetwork writes ${meta.hyper.l2.w.shape[1]! - 1}-d head rows, the embedding has ${D} features`);
    const rows = linear.apply(meta.hyper.l2, relu(linear.apply(meta.hyper.l1, classMeans(zs, task.support.y, o.ways)))); // [ways, D + 1]
    const [w, b] = split(rows, [D, 1], 1) as [Tensor, Tensor];
    return linearHead(zq, w, b);
  };

  return {
    name,
    init(params: ParamTree): HypernetParams {
      const { D, io } = embeddingSize(name, params);
      const rng = new Rng(o.seed ?? 0);
      return {
        embed: params,
        hyper: { l1: linear.init(rng, D, hidden, io) as { w: Tensor; b: Tensor }, l2: linear.init(rng, hidden, D + 1, io) as { w: Tensor; b: Tensor } },
      };
    },
    metaGrad: (meta, tasks) => meanOverTasks(name, meta, tasks, (task) => tapeTaskGrad(meta, (m) => scoreLogits(name, head(m, task), task.query.y))),
    scoreTask: (meta, task, opts) => noGrad(() => scoreLogits(name, head(meta, task), task.query.y, opts?.loss)),
  };
}

/** logits [Q, ways] = z [Q, D] · wᵀ + b, with w [ways, D], b [ways, 1]. */
function linearHead(z: Tensor, w: Tensor, b: Tensor): Tensor {
  return linear.apply({ w: transpose(w), b: reshape(b, [-1]) }, z);
}

export const hypernetEntry: LearnerEntry = {
  name: 'hypernet',
  family: 'model-based',
  summary: "task-conditioned hypernetwork: class-mean embeddings → the classifier head's rows (after Ha et al. 2016)",
  tasks: ['omniglot'],
  options: { hyperHidden: { kind: 'int', default: 256, min: 1, help: 'hidden units of the hypernetwork g' } },
  build: (model, { options: o, task }) => hypernet(model, { ways: task.ways ?? (o['ways'] as number), hidden: o['hyperHidden'] as number, seed: o['seed'] as number }),
  checkpoint: 'meta: Conv-4 embedding and the hypernetwork g; opt: Adam moments and step',
  describe: (o) => `hypernetwork ${String(o['hyperHidden'])} hidden units`,
};
