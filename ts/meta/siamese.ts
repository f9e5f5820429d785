// Siamese networks for one-shot recognition (Koch, Zemel & Salakhutdinov 2015):
//   twin embeddings h = σ(W · f(x) + b) with shared weights (the paper's sigmoid FC layer on
//   top of the convolutional body; here the backbone's embedding);
//   p(same | x1, x2) = σ(Σ_j α_j |h1_j − h2_j| + β)                 (the weighted L1 distance)
//   trained with binary cross-entropy on same/different pairs, here every (query, support)
//   pair of a training episode (so the pairs come from the training classes; both kinds
//   weigh equally in the loss, as in the paper's balanced pair sets);
//   evaluated by one-shot nearest match: a query takes the class of its most similar
//   support example (with K shots, the best of the class's K), in the N-way K-shot protocol.

import { abs, add, div, log, mul, sigmoid, sub } from '../ops/elementwise.js';
import { binaryCrossEntropy } from '../ops/losses.js';
import { max, sum } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { expandDims, reshape, transpose } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/tape.js';
import { linear } from '../nn/linear.js';
import { ones, zeros } from '../tensor/create.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { MetaError } from '../core/errors.js';
import { accuracyOf, asEmbedding, decayedAdam, describeDecay, embedEpisode, lrDecayOptions, metricLearner, oneHotLike, type EmbeddingModel, type MetricLearner } from './metric.js';
import type { LearnerEntry } from './registry.js';
import { featuresOf } from './protonet.js';

export interface SiameseOptions {
  /** units of the sigmoid embedding layer (default: the backbone's featureSize) */
  hidden?: number;
  seed?: number;
  name?: string;
}

export type SiameseParams = { features: ParamTree; embed: { w: Tensor; b: Tensor }; alpha: Tensor; beta: Tensor };

export function siamese(model: EmbeddingModel, opts: SiameseOptions = {}): MetricLearner<SiameseParams> {
  const name = opts.name ?? 'siamese';
  const inSize = (model as { featureSize?: number }).featureSize;
  if (!inSize) throw new MetaError(`${name}: the backbone must give its featureSize (conv4 does)`);
  const hidden = opts.hidden ?? inSize;
  if (!Number.isInteger(hidden) || hidden < 1) throw new MetaError(`${name}: hidden must be a positive integer, got ${hidden}`);
  const init = (params: ParamTree): SiameseParams => {
    const { features } = featuresOf(name, params);
    const leaf = treeFlatten(features).leaves[0]!;
    const o = { dtype: leaf.dtype, backend: leaf.backend };
    const rng = new Rng(opts.seed ?? 0);
    return { features, embed: linear.init(rng, inSize, hidden, { ...o, init: 'glorot' }) as { w: Tensor; b: Tensor }, alpha: div(ones([hidden], o), hidden), beta: zeros([], o) };
  };
  return metricLearner(name, init, (meta, task, ways) => {
    const e = embedEpisode((x) => sigmoid(linear.apply(meta.embed, model.features(meta, x, { training: true }))), task);
    // logits of p(same) for every (query, support) pair: [Q, Ns]
    const l1 = abs(sub(expandDims(e.query, 1), expandDims(e.support, 0)));
    const logits = add(sum(mul(l1, meta.alpha), -1), meta.beta);
    const same = matmul(oneHotLike(task.query.y, ways, logits), transpose(oneHotLike(task.support.y, ways, logits)));
    // same and different pairs weigh equally: per-pair weights 1/(2·#same) and 1/(2·#different)
    const weights = noGrad(() => {
      const nSame = sum(same), nDiff = sub(same.size, nSame);
      return add(div(same, mul(nSame, 2)), div(sub(1, same), mul(nDiff, 2)));
    });
    const loss = sum(mul(binaryCrossEntropy(logits, same, 'none'), weights));
    // nearest match: a class scores its best support example (log 0 = −∞ masks the others)
    const classScores = noGrad(() => max(add(expandDims(logits, 1), log(expandDims(transpose(oneHotLike(task.support.y, ways, logits)), 0))), -1));
    return { loss, accuracy: accuracyOf(reshape(classScores, [-1, ways]), task.query.y) };
  });
}

export const siameseEntry: LearnerEntry = {
  name: 'siamese',
  family: 'metric-based',
  summary: 'Siamese networks: weighted L1 between twin embeddings, same/different pairs, one-shot nearest match (Koch et al. 2015)',
  tasks: ['omniglot'],
  options: {
    siameseHidden: { structural: true, kind: 'int', default: undefined, min: 1, help: "units of the sigmoid embedding layer on the Conv-4 body (default: the body's feature size)" },
    ...lrDecayOptions(0),
  },
  overrides: { metaBatch: 1, iterations: 5000 },
  build: (model, { options: o }) => siamese(asEmbedding('siamese', model), { hidden: o['siameseHidden'] as number | undefined, seed: o['seed'] as number }),
  outerOptimizer: decayedAdam,
  checkpoint: 'meta: the embedding (Conv-4 body), the sigmoid layer, α and β; opt: Adam moments and step',
  describe: (o) => `pairs within training episodes, ${o['siameseHidden'] === undefined ? 'sigmoid layer as wide as the features' : `sigmoid layer ${String(o['siameseHidden'])}`}, ${describeDecay(o)}`,
};
