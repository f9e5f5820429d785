// Relation networks (Sung et al. 2018), section 3.2 and figure 2:
//   embedding f_φ: Conv-4 whose last two blocks do not pool (feature maps, not vectors);
//   K-shot: the support maps of each class are summed into one class map;
//   r_{i,j} = g_ϕ(C(f_φ(x_i), f_φ(x_j))), C = concatenation along channels, g_ϕ = two
//   [conv 3×3, batch norm, ReLU, max-pool 2] blocks, then FC-ReLU (8 units) and FC-sigmoid;
//   loss = Σ (r_{i,j} − 1(y_i == y_j))², the MSE against one-hot targets.

import { relu, sigmoid } from '../ops/elementwise.js';
import { mse } from '../ops/losses.js';
import { broadcastTo, concat, expandDims, reshape, split } from '../ops/shape-ops.js';
import { batchNorm, type BatchNormParams } from '../nn/batchnorm.js';
import { conv2d } from '../nn/conv2d.js';
import { flattenBatch } from '../nn/functional.js';
import { linear } from '../nn/linear.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { MetaError } from '../core/errors.js';
import { accuracyOf, classSums, decayedAdam, describeDecay, lrDecayOptions, metricLearner, oneHotLike, type MetricLearner } from './metric.js';
import type { LearnerEntry } from './registry.js';
import type { Model } from '../nn/model.js';
import { featuresOf } from './protonet.js';
import type { MetaApplyOptions, MetaModel } from './types.js';

/** A backbone that gives feature maps [N, C, S, S] (conv4 with pooledBlocks: 2). */
export interface FeatureMapModel extends MetaModel {
  featureMaps(params: ParamTree, x: Tensor, opts?: MetaApplyOptions): Tensor;
  readonly mapSize: number;
}

export interface RelationOptions {
  /** units of the relation module's hidden FC layer (default 8, the paper's) */
  hidden?: number;
  /** seed of the relation module's initialization */
  seed?: number;
  name?: string;
}

type Block = { conv: { w: Tensor; b: Tensor }; bn: BatchNormParams };
export type RelationParams = { features: ParamTree; relation: { blocks: Block[]; fc1: { w: Tensor; b: Tensor }; fc2: { w: Tensor; b: Tensor } } };

const BN = { mode: 'transductive' as const };

/** g_ϕ on concatenated pair maps [P, 2C, S, S] -> relation scores [P]. */
function relationModule(p: RelationParams['relation'], pairs: Tensor): Tensor {
  let h = pairs;
  for (const b of p.blocks) h = batchNorm.apply(b.bn, conv2d.apply(b.conv, h, { padding: 1 }), BN, { training: true, reluMaxPool: true });
  return reshape(sigmoid(linear.apply(p.fc2, relu(linear.apply(p.fc1, flattenBatch(h))))), [-1]);
}

export function relationNet(model: FeatureMapModel, opts: RelationOptions = {}): MetricLearner<RelationParams> {
  const name = opts.name ?? 'relation';
  const hidden = opts.hidden ?? 8;
  if (!Number.isInteger(hidden) || hidden < 1) throw new MetaError(`${name}: hidden must be a positive integer, got ${hidden}`);
  const side = Math.floor(Math.floor(model.mapSize / 2) / 2);
  if (side < 1) throw new MetaError(`${name}: the embedding's ${model.mapSize}×${model.mapSize} maps are too small for the relation module's two poolings (need at least 4; use conv4 with pooledBlocks: 2)`);
  const init = (params: ParamTree): RelationParams => {
    const { features } = featuresOf(name, params);
    const leaves = treeFlatten(features).leaves;
    const last = leaves[leaves.length - 1]!;
    const channels = last.shape[0]!;
    const o = { dtype: last.dtype, backend: last.backend };
    const rng = new Rng(opts.seed ?? 0);
    const blocks = [2 * channels, channels].map((cin) => ({
      conv: conv2d.init(rng, cin, channels, 3, { ...o, init: 'glorot' }) as { w: Tensor; b: Tensor },
      bn: batchNorm.init(rng, channels, BN, o),
    }));
    return {
      features,
      relation: { blocks, fc1: linear.init(rng, channels * side * side, hidden, o) as { w: Tensor; b: Tensor }, fc2: linear.init(rng, hidden, 1, o) as { w: Tensor; b: Tensor } },
    };
  };
  return metricLearner(name, init, (meta, task, ways) => {
    const ns = task.support.x.shape[0]!, nq = task.query.x.shape[0]!;
    const maps = model.featureMaps(meta, concat([task.support.x, task.query.x], 0), { training: true });
    const shape = maps.shape.slice(1);
    const [support, query] = split(maps, [ns, nq], 0) as [Tensor, Tensor];
    // K-shot: one map per class, the sum of its support maps
    const classes = reshape(classSums(reshape(support, [ns, -1]), task.support.y, ways), [ways, ...shape]);
    // every (query, class) pair, concatenated as (class map, query map) along channels
    const grid = [nq, ways, ...shape];
    const pairs = concat([broadcastTo(expandDims(classes, 0), grid), broadcastTo(expandDims(query, 1), grid)], 2);
    const scores = reshape(relationModule(meta.relation, reshape(pairs, [nq * ways, 2 * shape[0]!, shape[1]!, shape[2]!])), [nq, ways]);
    return { loss: mse(scores, oneHotLike(task.query.y, ways, scores)), accuracy: accuracyOf(scores, task.query.y) };
  });
}

export const relationEntry: LearnerEntry = {
  name: 'relation',
  family: 'metric-based',
  summary: 'Relation networks: a learned relation module scores (class, query) feature-map pairs, MSE to one-hot (Sung et al. 2018)',
  tasks: ['omniglot'],
  options: {
    relationHidden: { structural: true, kind: 'int', default: 8, min: 1, help: "units of the relation module's hidden fully connected layer (the paper's 8)" },
    ...lrDecayOptions(100000),
  },
  overrides: { metaBatch: 1, iterations: 5000 },
  // the embedding keeps 7×7 maps: pooling in the first two Conv-4 blocks only, as the paper
  model: ({ task }) => task.backbone({ pooledBlocks: 2 }),
  build: (model, { options: o }) => {
    const m = model as Model & Partial<FeatureMapModel>;
    if (typeof m.featureMaps !== 'function' || typeof m.mapSize !== 'number') throw new MetaError("relation: the backbone must expose featureMaps() and mapSize (conv4 does)");
    return relationNet(m as FeatureMapModel, { hidden: o['relationHidden'] as number, seed: o['seed'] as number });
  },
  outerOptimizer: decayedAdam,
  checkpoint: 'meta: the embedding (Conv-4 body, 2 pooled blocks) and the relation module; opt: Adam moments and step',
  describe: (o) => `relation module FC ${String(o['relationHidden'])}, ${describeDecay(o)}`,
};
