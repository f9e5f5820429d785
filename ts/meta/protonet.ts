// Prototypical networks (Snell, Swersky & Zemel 2017), Algorithm 1:
//   embed the support and query sets with f_φ;
//   c_k = mean of f_φ(x) over the support examples of class k          (prototypes)
//   p(y = k | x) = softmax_k(−d(f_φ(x), c_k)), d = squared Euclidean     (or cosine)
//   J(φ) = mean over the queries of −log p(y | x)
// Training episodes may have more ways than testing ones (the paper trains 60-way on
// Omniglot) and their own number of queries: the learner takes whatever the task holds.

import { crossEntropy } from '../ops/losses.js';
import { mul, neg } from '../ops/elementwise.js';
import { pairwiseSquaredDistances } from '../ops/distance.js';
import type { ParamTree } from '../tensor/tree.js';
import { MetaError } from '../core/errors.js';
import { accuracyOf, asEmbedding, classMeans, decayedAdam, describeDecay, embedEpisode, lrDecayOptions, metricLearner, pairwiseCosine, type EmbeddingModel, type MetricLearner } from './metric.js';
import type { LearnerEntry } from './registry.js';

export interface ProtonetOptions {
  /** 'euclidean' (squared, the paper's choice) or 'cosine' */
  distance?: 'euclidean' | 'cosine';
  /** cosine only: logits = scale · cos (cosine lies in [−1, 1], too flat for a softmax unscaled); default 10 */
  cosineScale?: number;
  name?: string;
}

export type ProtonetParams = { features: ParamTree };

/** The embedding parameters of a backbone's tree: its `features` subtree (the head is unused). */
export function featuresOf(who: string, params: ParamTree): { features: ParamTree } {
  const features = (params as { features?: ParamTree }).features;
  if (!features || typeof features !== 'object') throw new MetaError(`${who}: the model's parameters need a 'features' subtree (conv4 and mlp have one)`);
  return { features };
}

export function protonet(model: EmbeddingModel, opts: ProtonetOptions = {}): MetricLearner<ProtonetParams> {
  const name = opts.name ?? 'protonet';
  const distance = opts.distance ?? 'euclidean';
  if (distance !== 'euclidean' && distance !== 'cosine') throw new MetaError(`${name}: distance must be 'euclidean' or 'cosine', got '${String(distance)}'`);
  const scale = opts.cosineScale ?? 10;
  if (!(scale > 0)) throw new MetaError(`${name}: cosineScale must be positive, got ${scale}`);
  return metricLearner(name, (params) => featuresOf(name, params), (meta, task, ways) => {
    const z = embedEpisode((x) => model.features(meta, x, { training: true }), task);
    const prototypes = classMeans(z.support, task.support.y, ways);
    const logits = distance === 'euclidean' ? neg(pairwiseSquaredDistances(z.query, prototypes)) : mul(pairwiseCosine(z.query, prototypes), scale);
    return { loss: crossEntropy(logits, task.query.y), accuracy: accuracyOf(logits, task.query.y) };
  });
}

export const protonetEntry: LearnerEntry = {
  name: 'protonet',
  family: 'metric-based',
  summary: 'Prototypical networks: softmax over distances to class-mean embeddings (Snell et al. 2017)',
  tasks: ['omniglot'],
  options: {
    distance: { kind: 'str', default: 'euclidean', choices: ['euclidean', 'cosine'], help: "squared Euclidean distance to the prototypes (the paper's) or cosine similarity" },
    cosineScale: { kind: 'num', default: 10, above: 0, help: 'with --distance cosine: logits = scale · cos' },
    ...lrDecayOptions(2000),
  },
  // the paper's Omniglot protocol: 60-way training episodes with 5 queries per class, one
  // episode per Adam 1e-3 update; tested 5- or 20-way (queries: the authors' code's 15)
  overrides: { trainWays: 60, trainQueries: 5, metaBatch: 1, iterations: 10000 },
  build: (model, { options: o }) => protonet(asEmbedding('protonet', model), { distance: o['distance'] as 'euclidean' | 'cosine', cosineScale: o['cosineScale'] as number }),
  outerOptimizer: decayedAdam,
  checkpoint: 'meta: the embedding (Conv-4 body); opt: Adam moments and step',
  describe: (o) => `${String(o['distance'])} distance${o['distance'] === 'cosine' ? ` ×${String(o['cosineScale'])}` : ''}, ${describeDecay(o)}`,
};
