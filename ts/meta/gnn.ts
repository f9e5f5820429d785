// Few-shot learning with graph neural networks (Garcia & Bruna 2018), section 4:
//   nodes x⁰_i = (φ(x_i), h(l_i)): the embedding ⊕ the one-hot label (uniform 1/N for the query);
//   each layer k learns its adjacency from the current node features,
//     Ã_ij = softmax_j(MLP(|x_i − x_j|)) with j ≠ i (the identity is its own operator),
//   and applies a graph convolution over the family {I, Ã}:
//     x^{k+1} = ρ(Σ_{B ∈ {I, Ã}} B x^k θ_B) = leaky_relu(linear([x, Ã x])),
//   whose output is concatenated to its input (dense connections, as in the authors' code);
//   a last graph convolution maps the query node to N class logits; cross-entropy.
// One graph per query (the paper's few-shot setting), all the queries' graphs in one batch.
// The node features carry an N-wide label, so a GNN is built for one number of ways.
// Not here: the batch norm the authors' code puts inside the adjacency MLP and graph convolutions
// (Glorot initialization keeps the scores' scale at the start instead; see init below).

import { abs, add, mul, sub } from '../ops/elementwise.js';
import { leakyRelu } from '../ops/activations.js';
import { crossEntropy } from '../ops/losses.js';
import { matmul } from '../ops/matmul.js';
import { softmax } from '../ops/softmax.js';
import { broadcastTo, concat, expandDims, reshape, slice } from '../ops/shape-ops.js';
import { linear } from '../nn/linear.js';
import { eye, full } from '../tensor/create.js';
import { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { MetaError, ValueError } from '../core/errors.js';
import { accuracyOf, asEmbedding, decayedAdam, describeDecay, embedEpisode, lrDecayOptions, metricLearner, oneHotLike, type EmbeddingModel, type MetricLearner } from './metric.js';
import type { LearnerEntry } from './registry.js';
import { featuresOf } from './protonet.js';

export interface GnnOptions {
  /** the number of ways the graph is built for (its label width and outputs) */
  ways: number;
  /** nf: the adjacency MLP has 2nf, 2nf, nf, nf hidden units; each graph layer adds nf/2 features (default 96, the authors') */
  hidden?: number;
  /** graph-convolution layers before the last one (default 2) */
  layers?: number;
  seed?: number;
  name?: string;
}

type Affine = { w: Tensor; b: Tensor };
type GraphLayer = { adjacency: Affine[]; conv: Affine };
export type GnnParams = { features: ParamTree; gnn: { layers: GraphLayer[]; last: GraphLayer } };

/** Ã [G, n, n]: a row softmax of MLP(|x_i − x_j|) over j ≠ i, for node features x [G, n, d]. */
function adjacency(mlp: readonly Affine[], x: Tensor, offDiagonal: Tensor): Tensor {
  let h = abs(sub(expandDims(x, 2), expandDims(x, 1)));
  mlp.forEach((l, i) => {
    h = linear.apply(l, h);
    if (i < mlp.length - 1) h = leakyRelu(h);
  });
  // −1e9 on the diagonal leaves exp(·) = 0 there: self-edges belong to the identity operator
  return softmax(add(reshape(h, h.shape.slice(0, -1)), offDiagonal), -1);
}

/** linear([x, Ã x]): the graph convolution over {I, Ã}. */
function graphConv(layer: GraphLayer, x: Tensor, offDiagonal: Tensor): Tensor {
  return linear.apply(layer.conv, concat([x, matmul(adjacency(layer.adjacency, x, offDiagonal), x)], -1));
}

export function gnn(model: EmbeddingModel, opts: GnnOptions): MetricLearner<GnnParams> {
  const name = opts?.name ?? 'gnn';
  const ways = opts?.ways;
  if (!Number.isInteger(ways) || ways < 2) throw new MetaError(`${name}: ways must be an integer ≥ 2 (the graph's label width), got ${String(ways)}`);
  const nf = opts.hidden ?? 96, depth = opts.layers ?? 2;
  if (!Number.isInteger(nf) || nf < 2) throw new MetaError(`${name}: hidden must be an integer ≥ 2, got ${nf}`);
  if (!Number.isInteger(depth) || depth < 0) throw new MetaError(`${name}: layers must be a non-negative integer, got ${depth}`);
  const embedSize = (model as { featureSize?: number }).featureSize;
  if (!embedSize) throw new MetaError(`${name}: the backbone must give its featureSize (conv4 does)`);
  const init = (params: ParamTree): GnnParams => {
    const { features } = featuresOf(name, params);
    const leaf = treeFlatten(features).leaves[0]!;
    const o = { dtype: leaf.dtype, backend: leaf.backend };
    const rng = new Rng(opts.seed ?? 0);
    // Glorot, not PyTorch's default uniform U(±1/√in): that shrinks the variance 6× per leaky-ReLU layer, so
    // without the authors' batch norm the 5-layer adjacency MLP's scores were near-constant (sd 0.004
    // against 0.05 on an Omniglot episode), Ã uniform and the start of training a plateau of chance.
    const affine = (i: number, j: number) => linear.init(rng, i, j, { ...o, init: 'glorot' }) as Affine;
    const layer = (d: number, out: number): GraphLayer => ({
      adjacency: [[d, 2 * nf], [2 * nf, 2 * nf], [2 * nf, nf], [nf, nf], [nf, 1]].map(([i, j]) => affine(i!, j!)),
      conv: affine(2 * d, out),
    });
    let d = embedSize + ways;
    const layers: GraphLayer[] = [];
    for (let k = 0; k < depth; k++) {
      layers.push(layer(d, Math.floor(nf / 2)));
      d += Math.floor(nf / 2);
    }
    return { features, gnn: { layers, last: layer(d, ways) } };
  };
  return metricLearner(name, init, (meta, task, n) => {
    if (n !== ways) throw new MetaError(`${name}: this graph network is built for ${ways}-way tasks, got a ${n}-way task`);
    const e = embedEpisode((x) => model.features(meta, x, { training: true }), task);
    const ns = e.support.shape[0]!, nq = e.query.shape[0]!, size = ns + 1;
    const o = { dtype: e.query.dtype, backend: e.query.backend };
    // one graph per query: the labelled support nodes, then the query with a uniform label
    const supportNodes = concat([e.support, oneHotLike(task.support.y, ways, e.support)], 1);
    const queryNodes = concat([e.query, full([nq, ways], 1 / ways, o)], 1);
    let x = concat([broadcastTo(expandDims(supportNodes, 0), [nq, ns, supportNodes.shape[1]!]), expandDims(queryNodes, 1)], 1);
    const offDiagonal = mul(eye(size, size, o), -1e9);
    for (const layer of meta.gnn.layers) x = concat([x, leakyRelu(graphConv(layer, x, offDiagonal))], -1);
    const logits = reshape(slice(graphConv(meta.gnn.last, x, offDiagonal), [0, ns, 0], [nq, 1, ways]), [nq, ways]);
    return { loss: crossEntropy(logits, task.query.y), accuracy: accuracyOf(logits, task.query.y) };
  });
}

export const gnnEntry: LearnerEntry = {
  name: 'gnn',
  family: 'metric-based',
  summary: 'few-shot graph neural network: learned adjacency over support and query nodes (Garcia & Bruna 2018)',
  tasks: ['omniglot'],
  options: {
    gnnHidden: { structural: true, kind: 'int', default: 96, min: 2, help: "nf — the adjacency MLP has 2nf, 2nf, nf, nf units and each graph layer adds nf/2 features (the authors' 96)" },
    gnnLayers: { structural: true, kind: 'int', default: 2, min: 0, help: 'graph-convolution layers before the last one' },
    ...lrDecayOptions(0),
  },
  overrides: { metaBatch: 1, iterations: 5000 },
  build: (model, { options: o }) => {
    // the node labels are N wide, so a graph network is built for one number of ways
    if (o['trainWays'] !== o['ways']) throw new ValueError(`gnn: the graph is built for one number of ways (its label width); --train-ways ${String(o['trainWays'])} must equal --ways ${String(o['ways'])}`);
    return gnn(asEmbedding('gnn', model), { ways: o['ways'] as number, hidden: o['gnnHidden'] as number, layers: o['gnnLayers'] as number, seed: o['seed'] as number });
  },
  outerOptimizer: decayedAdam,
  checkpoint: 'meta: the embedding (Conv-4 body) and the graph layers; opt: Adam moments and step',
  describe: (o) => `nf ${String(o['gnnHidden'])}, ${String(o['gnnLayers'])}+1 graph layers, ${describeDecay(o)}`,
};
