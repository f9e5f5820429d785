// Matching networks (Vinyals et al. 2016):
//   ŷ = Σ_i a(x̂, x_i) y_i,   a(x̂, x_i) = softmax_i(cos(f(x̂), g(x_i)))      (eq. 1-2)
//   loss = −log ŷ[true class] over the queries.
// Without full-context embeddings f = g = the backbone's embedding. With them (appendix A):
//   g(x_i, S) = h→_i + h←_i + g'(x_i), a bidirectional LSTM over the support embeddings g';
//   f(x̂, S) = attLSTM(f'(x̂), g(S), K): for k = 1..K
//     ĥ_k, c_k = LSTM(f'(x̂), [h_{k−1}, r_{k−1}], c_{k−1});  h_k = ĥ_k + f'(x̂)
//     r_k = Σ_i softmax_i(h_kᵀ g(x_i)) g(x_i)
//   f = h_K. The LSTM's recurrent input [h, r] is one cell with input [f'(x̂), r] (the same
//   affine map of x, h and r), hidden size = the embedding size so the sums are defined.

import { add, log } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/losses.js';
import { matmul } from '../ops/matmul.js';
import { softmax } from '../ops/softmax.js';
import { concat, split, transpose } from '../ops/shape-ops.js';
import { lstmCell, type LstmParams } from '../nn/lstm.js';
import type { InitOptions } from '../nn/model.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { MetaError } from '../core/errors.js';
import { accuracyOf, asEmbedding, decayedAdam, describeDecay, embedEpisode, lrDecayOptions, metricLearner, oneHotLike, pairwiseCosine, type EmbeddingModel, type MetricLearner } from './metric.js';
import type { LearnerEntry } from './registry.js';
import { featuresOf } from './protonet.js';

export interface MatchingOptions {
  /** full-context embeddings (appendix A), default false (the paper's Omniglot setting) */
  fce?: boolean;
  /** read steps K of the attention LSTM, default 5 */
  readSteps?: number;
  /** FCE: seed of the LSTMs' initialization */
  seed?: number;
  name?: string;
}

export type MatchingParams = { features: ParamTree; fce?: { forward: LstmParams; backward: LstmParams; read: LstmParams } };

/** Run an LSTM over the rows of x [N, D] in order (one sequence); the hidden states [N, D]. */
function runSequence(cell: LstmParams, rows: readonly Tensor[], d: number, like: Tensor): Tensor[] {
  let state = lstmCell.initState(1, d, { dtype: like.dtype, backend: like.backend });
  return rows.map((x) => (state = lstmCell.apply(cell, x, state)).h);
}

/** g(x_i, S) = h→_i + h←_i + g'(x_i) */
function contextSupport(p: NonNullable<MatchingParams['fce']>, g: Tensor): Tensor {
  const d = g.shape[1]!;
  const rows = split(g, Array(g.shape[0]!).fill(1), 0);
  const fw = runSequence(p.forward, rows, d, g);
  const bw = runSequence(p.backward, rows.slice().reverse(), d, g).reverse();
  return add(add(concat(fw, 0), concat(bw, 0)), g);
}

/** f(x̂, S): K steps of the attention LSTM over the queries f' [Q, D] and the support g(S) [N, D]. */
function contextQuery(cell: LstmParams, f: Tensor, g: Tensor, steps: number): Tensor {
  let state = lstmCell.initState(f.shape[0]!, f.shape[1]!, { dtype: f.dtype, backend: f.backend });
  let h = state.h;
  for (let k = 0; k < steps; k++) {
    const r = matmul(softmax(matmul(h, transpose(g)), -1), g);
    state = lstmCell.apply(cell, concat([f, r], 1), { h, c: state.c });
    h = add(state.h, f);
  }
  return h;
}

export function matching(model: EmbeddingModel, opts: MatchingOptions = {}): MetricLearner<MatchingParams> {
  const name = opts.name ?? 'matching';
  const fce = opts.fce ?? false;
  const steps = opts.readSteps ?? 5;
  if (!Number.isInteger(steps) || steps < 1) throw new MetaError(`${name}: readSteps must be a positive integer, got ${steps}`);
  const init = (params: ParamTree): MatchingParams => {
    const { features } = featuresOf(name, params);
    if (!fce) return { features };
    const leaf = treeFlatten(features).leaves[0]!;
    const o: InitOptions = { dtype: leaf.dtype, backend: leaf.backend };
    const d = (model as { featureSize?: number }).featureSize;
    if (!d) throw new MetaError(`${name}: full-context embeddings need the backbone's featureSize (conv4 has it)`);
    const rng = new Rng(opts.seed ?? 0);
    return { features, fce: { forward: lstmCell.init(rng, d, d, o), backward: lstmCell.init(rng, d, d, o), read: lstmCell.init(rng, 2 * d, d, o) } };
  };
  return metricLearner(name, init, (meta, task, ways) => {
    const e = embedEpisode((x) => model.features(meta, x, { training: true }), task);
    const g = meta.fce ? contextSupport(meta.fce, e.support) : e.support;
    const f = meta.fce ? contextQuery(meta.fce.read, e.query, g, steps) : e.query;
    const attention = softmax(pairwiseCosine(f, g), -1);
    const probs = matmul(attention, oneHotLike(task.support.y, ways, attention));
    // log ŷ as logits: its log-softmax is itself, since ŷ sums to 1
    const logProbs = log(probs);
    return { loss: crossEntropy(logProbs, task.query.y), accuracy: accuracyOf(probs, task.query.y) };
  });
}


export const matchingEntry: LearnerEntry = {
  name: 'matching',
  family: 'metric-based',
  summary: 'Matching networks: attention over cosine similarities to the support set, optional full-context embeddings (Vinyals et al. 2016)',
  tasks: ['omniglot'],
  options: {
    fce: { structural: true, kind: 'bool', default: false, help: "full-context embeddings (appendix A: bidirectional LSTM g over the support, attention LSTM f over the query); off in the paper's Omniglot runs" },
    readSteps: { kind: 'int', default: 5, min: 1, help: 'with --fce: read steps K of the attention LSTM' },
    ...lrDecayOptions(0),
  },
  overrides: { metaBatch: 1, iterations: 5000 },
  build: (model, { options: o }) => matching(asEmbedding('matching', model), { fce: o['fce'] as boolean, readSteps: o['readSteps'] as number, seed: o['seed'] as number }),
  outerOptimizer: decayedAdam,
  checkpoint: 'meta: the embedding (Conv-4 body), with --fce the three LSTMs; opt: Adam moments and step',
  describe: (o) => `${o['fce'] ? `full-context embeddings, K=${String(o['readSteps'])} reads` : 'no full-context embeddings'}, ${describeDecay(o)}`,
};
