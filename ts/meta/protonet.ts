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
import { accuracyOf, classMeans, embedEpisode, metricLearner, pairwiseCosine, type EmbeddingModel, type MetricLearner } from './metric.js';

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
