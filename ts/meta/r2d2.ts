// R2-D2: ridge regression differentiable discriminator (Bertinetto, Henriques, Torr &
// Vedaldi 2019), section 3.2. For the support embeddings X = φ(x) [N, D] and one-hot Y [N, C]:
//   W = Xᵀ (X Xᵀ + λ I)⁻¹ Y              (the Woodbury form: an N×N system, N = ways·shots ≪ D)
//   logits = α · φ(x̂) W + β               (learned scale α and bias β, eq. 6)
//   loss = cross-entropy over the queries; λ, α, β are meta-learned with φ.
// The N×N system is SPD for λ > 0 and solved by Cholesky (ops/linalg.ts), whose vjp is in ops:
// the meta-gradient flows through the closed-form solution. λ = exp(log λ) stays positive.

import { add, exp, mul } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/losses.js';
import { solve } from '../ops/linalg.js';
import { matmul } from '../ops/matmul.js';
import { transpose } from '../ops/shape-ops.js';
import { eye, scalar } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { MetaError } from '../core/errors.js';
import { accuracyOf, asEmbedding, decayedAdam, describeDecay, embedEpisode, lrDecayOptions, metricLearner, oneHotLike, type EmbeddingModel, type MetricLearner } from './metric.js';
import type { LearnerEntry } from './registry.js';
import { featuresOf } from './protonet.js';

export interface R2d2Options {
  /** initial ridge penalty λ (default 1) */
  lambda?: number;
  /** initial scale α (default 1) and bias β (default 0) of the logits */
  scale?: number;
  bias?: number;
  name?: string;
}

export type R2d2Params = { features: ParamTree; logLambda: Tensor; scale: Tensor; bias: Tensor };

/** W = Xᵀ (X Xᵀ + λ I)⁻¹ Y: the ridge-regression weights from the support set, [D, C]. */
export function ridgeWeights(x: Tensor, y: Tensor, lambda: Tensor): Tensor {
  const n = x.shape[0]!;
  const gram = add(matmul(x, transpose(x)), mul(eye(n, n, { dtype: x.dtype, backend: x.backend }), lambda));
  return matmul(transpose(x), solve(gram, y));
}

export function r2d2(model: EmbeddingModel, opts: R2d2Options = {}): MetricLearner<R2d2Params> {
  const name = opts.name ?? 'r2d2';
  const lambda = opts.lambda ?? 1, scale = opts.scale ?? 1, bias = opts.bias ?? 0;
  if (!(lambda > 0)) throw new MetaError(`${name}: lambda must be positive, got ${lambda}`);
  const init = (params: ParamTree): R2d2Params => {
    const { features } = featuresOf(name, params);
    const leaf = treeFlatten(features).leaves[0]!;
    const o = { dtype: leaf.dtype, backend: leaf.backend };
    return { features, logLambda: scalar(Math.log(lambda), o), scale: scalar(scale, o), bias: scalar(bias, o) };
  };
  return metricLearner(name, init, (meta, task, ways) => {
    const e = embedEpisode((x) => model.features(meta, x, { training: true }), task);
    const w = ridgeWeights(e.support, oneHotLike(task.support.y, ways, e.support), exp(meta.logLambda));
    const logits = add(mul(matmul(e.query, w), meta.scale), meta.bias);
    return { loss: crossEntropy(logits, task.query.y), accuracy: accuracyOf(logits, task.query.y) };
  });
}

export const r2d2Entry: LearnerEntry = {
  name: 'r2d2',
  family: 'metric-based',
  summary: 'R2D2: closed-form ridge regression head on support embeddings, learned λ, scale and bias (Bertinetto et al. 2019)',
  tasks: ['omniglot'],
  options: {
    ridgeLambda: { kind: 'num', default: 1, above: 0, help: 'initial ridge penalty λ (learned, as log λ)' },
    logitScale: { kind: 'num', default: 1, help: 'initial logit scale α (learned)' },
    logitBias: { kind: 'num', default: 0, help: 'initial logit bias β (learned)' },
    ...lrDecayOptions(0),
  },
  overrides: { metaBatch: 1, iterations: 5000 },
  build: (model, { options: o }) => r2d2(asEmbedding('r2d2', model), { lambda: o['ridgeLambda'] as number, scale: o['logitScale'] as number, bias: o['logitBias'] as number }),
  outerOptimizer: decayedAdam,
  checkpoint: 'meta: the embedding (Conv-4 body), log λ, α and β; opt: Adam moments and step',
  describe: (o) => `λ₀ ${String(o['ridgeLambda'])}, α₀ ${String(o['logitScale'])}, β₀ ${String(o['logitBias'])}, ${describeDecay(o)}`,
};
