// SNAIL (Mishra et al. 2018, "A simple neural attentive meta-learner"). An episode is a
// sequence: the support examples as (embedding, one-hot label) pairs, then the query with its
// label withheld (zeros); the network reads the sequence causally and classifies the last
// step. Layers (the paper's few-shot architecture, sizes configurable):
//   AttentionBlock(64, 32) → TCBlock(T, 128) → AttentionBlock(256, 128) → TCBlock(T, 128)
//   → AttentionBlock(512, 256) → linear to the classes,
// where a TCBlock is ⌈log₂ T⌉ DenseBlocks with dilations 1, 2, 4, ...; a DenseBlock(d, F) is a
// causal convolution of kernel 2 and dilation d with a gated activation, its output
// concatenated to its input:  a_t = tanh(W_f [x_{t−d}, x_t]) ⊙ σ(W_g [x_{t−d}, x_t]),  out = [x, a];
// an AttentionBlock(K, V) is causal single-head soft attention, its read concatenated:
//   out = [x, softmax(mask(Q Kᵀ / √K)) V]. Embeddings are Conv-4 features, trained end to end.
// Every query of an episode is its own sequence (support + that query), batched together.

import { noGrad } from '../tensor/tape.js';
import { ShapeError, MetaError, ValueError } from '../core/errors.js';
import { add, div, mul, sigmoid, tanh } from '../ops/elementwise.js';
import { oneHot } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { softmax } from '../ops/softmax.js';
import { broadcastTo, concat, expandDims, pad, reshape, slice, split, transpose } from '../ops/shape-ops.js';
import { Rng } from '../ops/rng.js';
import { tensor, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { linear } from '../nn/linear.js';
import type { Model } from '../nn/model.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { checkWays, scoreLogits, embeddingSize } from './scored.js';
import type { LearnerEntry } from './registry.js';
import type { MetaLearner, MetaTask } from './types.js';

type Lin = { w: Tensor; b: Tensor };
export type SnailParams = { embed: ParamTree; blocks: SnailNet[]; out: Lin };
/** one block's parameters (attention: q, k, v; TC: one gated causal conv per dense block) */
export type SnailNet = { q: Lin; k: Lin; v: Lin } | { dense: Lin[] };

export interface SnailOptions {
  ways: number;
  shots: number;
  /** attention (key, value) sizes of the three attention blocks (default the paper's [[64, 32], [256, 128], [512, 256]]) */
  attention?: readonly (readonly [number, number])[];
  /** filters of the dense blocks in both TC blocks (default 128) */
  filters?: number;
  /** batch-norm flag for the embedding (default true) */
  training?: boolean;
  seed?: number;
}

/** Dense blocks per TC block over a sequence of length T: ⌈log₂ T⌉ (dilations 1, 2, 4, ...). */
export function tcDepth(T: number): number {
  return Math.max(1, Math.ceil(Math.log2(T)));
}

/** Causal dilated convolution of kernel 2 with a gated activation; x [B, T, C] → [B, T, C + F]. */
export function denseBlock(p: Lin, x: Tensor, dilation: number): Tensor {
  const [B, T, C] = x.shape as [number, number, number];
  const shifted = dilation >= T ? zeros(x.shape, { dtype: x.dtype, backend: x.backend }) : slice(pad(x, [[0, 0], [dilation, 0], [0, 0]]), [0, 0, 0], [B, T, C]); // x_{t−d}, zero before the start
  const z = linear.apply(p, concat([shifted, x], 2)); // [B, T, 2F]
  const F = z.shape[2]! / 2;
  const [f, g] = split(z, [F, F], 2) as [Tensor, Tensor];
  return concat([x, mul(tanh(f), sigmoid(g))], 2);
}

/** Causal soft attention; x [B, T, C] → [B, T, C + V]. `mask` is 0 on and below the diagonal, −∞ above. */
export function attentionBlock(p: { q: Lin; k: Lin; v: Lin }, x: Tensor, mask: Tensor): Tensor {
  const q = linear.apply(p.q, x), k = linear.apply(p.k, x), v = linear.apply(p.v, x);
  const logits = add(div(matmul(q, transpose(k)), Math.sqrt(k.shape[2]!)), mask);
  return concat([x, matmul(softmax(logits, -1), v)], 2);
}

function causalMask(T: number, like: Tensor): Tensor {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -Infinity;
  return tensor(m, [T, T], { dtype: like.dtype, backend: like.backend });
}

export function snail(model: Model<any>, o: SnailOptions): MetaLearner<SnailParams> {
  const name = 'snail';
  if (!Number.isInteger(o.ways) || o.ways < 2) throw new MetaError(`${name}: ways must be an integer >= 2, got ${o.ways}`);
  if (!Number.isInteger(o.shots) || o.shots < 1) throw new MetaError(`${name}: shots must be a positive integer, got ${o.shots}`);
  if (typeof model.features !== 'function') throw new MetaError(`${name}: the embedding model must expose features() (conv4 and mlp do)`);
  const att = o.attention ?? [[64, 32], [256, 128], [512, 256]];
  if (att.length !== 3) throw new MetaError(`${name}: attention must give the (key, value) sizes of 3 attention blocks, got ${att.length}`);
  const filters = o.filters ?? 128, training = o.training ?? true;
  const T = o.ways * o.shots + 1, depth = tcDepth(T);

  /** Logits [Q, ways]: every query read after the whole support sequence. */
  const forward = (meta: SnailParams, task: MetaTask): Tensor => {
    checkWays(name, task, o.ways);
    const ns = task.support.y.shape[0]!;
    if (ns !== T - 1) throw new ShapeError(`${name}: built for ${o.ways}-way ${o.shots}-shot sequences (${T - 1} support examples), the task has ${ns}`);
    const zs = model.features!(meta.embed, task.support.x, { training }), zq = model.features!(meta.embed, task.query.x, { training });
    const Q = zq.shape[0]!, D = zs.shape[1]!;
    const labels = noGrad(() => oneHot(task.support.y, o.ways, zs.dtype));
    const support = broadcastTo(expandDims(concat([zs, labels], 1), 0), [Q, ns, D + o.ways]);
    const query = expandDims(concat([zq, zeros([Q, o.ways], { dtype: zq.dtype, backend: zq.backend })], 1), 1); // label withheld
    let x = concat([support, query], 1); // [Q, T, D + ways]
    const mask = causalMask(T, x);
    for (const b of meta.blocks) {
      if ('dense' in b) b.dense.forEach((d, i) => (x = denseBlock(d, x, 2 ** i)));
      else x = attentionBlock(b, x, mask);
    }
    const last = reshape(slice(x, [0, T - 1, 0], [Q, 1, x.shape[2]!]), [Q, x.shape[2]!]);
    return linear.apply(meta.out, last);
  };

  return {
    name,
    init(params: ParamTree): SnailParams {
      const { D, io } = embeddingSize(name, params);
      const rng = new Rng(o.seed ?? 0);
      const lin = (i: number, n: number) => linear.init(rng, i, n, io) as Lin;
      let c = D + o.ways;
      const blocks: SnailNet[] = [];
      const attention = ([k, v]: readonly [number, number]) => {
        blocks.push({ q: lin(c, k), k: lin(c, k), v: lin(c, v) });
        c += v;
      };
      const tc = () => {
        const dense: Lin[] = [];
        for (let i = 0; i < depth; i++) {
          dense.push(lin(2 * c, 2 * filters));
          c += filters;
        }
        blocks.push({ dense });
      };
      attention(att[0]!);
      tc();
      attention(att[1]!);
      tc();
      attention(att[2]!);
      return { embed: params, blocks, out: lin(c, o.ways) };
    },
    metaGrad: (meta, tasks) => meanOverTasks(name, meta, tasks, (task) => tapeTaskGrad(meta, (m) => scoreLogits(name, forward(m, task), task.query.y))),
    scoreTask: (meta, task, opts) => noGrad(() => scoreLogits(name, forward(meta, task), task.query.y, opts?.loss)),
  };
}

/** '64:32,256:128,512:256' → [[64, 32], [256, 128], [512, 256]] (the attention blocks' key and value sizes). */
export function parseAttention(spec: string): [number, number][] {
  const blocks = spec.split(',').map((b) => b.split(':').map((v) => Number(v)));
  if (blocks.length !== 3 || blocks.some((b) => b.length !== 2 || b.some((v) => !Number.isInteger(v) || v < 1))) {
    throw new ValueError(`snail: --attention must give 3 blocks of key:value sizes, e.g. 64:32,256:128,512:256; got '${spec}'`);
  }
  return blocks as [number, number][];
}

export const snailEntry: LearnerEntry = {
  name: 'snail',
  family: 'model-based',
  summary: 'SNAIL: temporal convolutions and causal attention over the episode as a sequence (Mishra et al. 2018)',
  tasks: ['omniglot'],
  options: {
    attention: { kind: 'str', default: '64:32,256:128,512:256', help: 'key:value sizes of the three attention blocks' },
    filters: { kind: 'int', default: 128, min: 1, help: 'filters of every dense block of the TC blocks' },
  },
  // every query is its own sequence: one query per class per episode
  overrides: { queries: 1 },
  build: (model, { options: o, task }) => snail(model, { ways: task.ways ?? (o['ways'] as number), shots: o['shots'] as number, attention: parseAttention(o['attention'] as string), filters: o['filters'] as number, seed: o['seed'] as number }),
  checkpoint: 'meta: Conv-4 embedding, attention and TC blocks, output layer; opt: Adam moments and step',
  describe: (o) => `attention ${String(o['attention'])}, ${String(o['filters'])} filters`,
};
