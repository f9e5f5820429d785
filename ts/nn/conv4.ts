// Conv-4 (Vinyals et al. 2016; used by MAML and ProtoNets): 4 × [conv 3×3 (padding 1),
// batch norm, ReLU, max-pool 2], then a linear head. 28×28 inputs give 64 features
// (28→14→7→3→1), 84×84 give 64·5·5 = 1600.
// downsample 'stride' is the MAML reference's Omniglot variant: stride-2 convolutions and no
// pooling (28→14→7→4→2), features averaged over the final map (64). pooledBlocks < 4 keeps
// the resolution after that many blocks (Relation Networks' embedding: pools in the first two
// blocks only, 28→14→7→7→7); featureMaps() returns the unflattened [N, C, H, W] maps.
//
// params: { features: { blocks: [{ conv: {w, b}, bn: {gamma, beta} } × 4] }, head: { w, b } }
// state (batch-norm running statistics, see batchnorm.ts): { blocks: [{ mean, var } × 4] }
// applyTasks runs T tasks at once on their stacked fast weights (every leaf [T, ...]).

import { ShapeError, fmtShape } from '../core/errors.js';
import { expectOptions } from '../core/shape.js';
import { relu } from '../ops/elementwise.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { batchNorm, type BatchNormConfig, type BatchNormMode, type BatchNormParams, type BatchNormState } from './batchnorm.js';
import { conv2d } from './conv2d.js';
import { flattenBatch } from './functional.js';
import { mean } from '../ops/reduce.js';
import { permute, reshape } from '../ops/shape-ops.js';
import { checkPositiveInt } from './init.js';
import { linear } from './linear.js';
import type { ApplyOptions, InitOptions, Model } from './model.js';

export interface Conv4Options {
  inChannels?: number;
  imageSize: number;
  outputs: number;
  /** channels per block, default 64 */
  hidden?: number;
  /** default 'transductive' (the MAML reference) */
  batchNorm?: BatchNormMode;
  /** per-step batch norm: inner steps (default 5) */
  maxSteps?: number;
  /** running-statistics momentum (default 0.1) */
  momentum?: number;
  /** 'maxpool' (default: 2×2 max-pooling after each block) or 'stride' (stride-2 convolutions, no pooling, then a spatial mean) */
  downsample?: 'maxpool' | 'stride';
  /** how many blocks (from the first) halve the resolution, default 4 */
  pooledBlocks?: number;
}

type Block = { conv: { w: Tensor; b: Tensor }; bn: BatchNormParams };
export type Conv4Params = { features: { blocks: Block[] }; head: { w: Tensor; b: Tensor } };
export type Conv4State = { blocks: BatchNormState[] };

export interface Conv4Model extends Model<Conv4Params> {
  /** features per example (the head's input size) */
  readonly featureSize: number;
  initState(opts?: InitOptions): Conv4State;
  applyWithState(params: Conv4Params, state: ParamTree, x: Tensor, opts?: ApplyOptions): { y: Tensor; state: Conv4State };
  features(params: Conv4Params, x: Tensor, opts?: ApplyOptions): Tensor;
  applyTasks(params: Conv4Params, x: Tensor, opts?: ApplyOptions): Tensor;
  /** the last block's output [N, hidden, side, side] (before flattening or averaging) */
  featureMaps(params: Conv4Params, x: Tensor, opts?: ApplyOptions): Tensor;
  /** side of the last block's maps */
  readonly mapSize: number;
}

export function conv4(opts: Conv4Options): Conv4Model {
  expectOptions(opts, 'conv4', true);
  const inC = opts.inChannels ?? 1, hidden = opts.hidden ?? 64;
  checkPositiveInt(inC, 'inChannels', 'conv4');
  checkPositiveInt(hidden, 'hidden', 'conv4');
  checkPositiveInt(opts.imageSize, 'imageSize', 'conv4');
  checkPositiveInt(opts.outputs, 'outputs', 'conv4');
  const bn: BatchNormConfig = { mode: opts.batchNorm ?? 'transductive', maxSteps: opts.maxSteps ?? 5, momentum: opts.momentum ?? 0.1 };
  const downsample = opts.downsample ?? 'maxpool';
  if (downsample !== 'maxpool' && downsample !== 'stride') throw new ShapeError(`conv4: downsample must be 'maxpool' or 'stride', got '${String(downsample)}'`);
  const pooled = opts.pooledBlocks ?? 4;
  if (!Number.isInteger(pooled) || pooled < 0 || pooled > 4) throw new ShapeError(`conv4: pooledBlocks must be an integer in [0, 4], got ${pooled}`);
  let side = opts.imageSize;
  // max-pool 2 floors; a stride-2 3×3 convolution with padding 1 rounds up
  for (let i = 0; i < pooled; i++) side = downsample === 'stride' ? Math.ceil(side / 2) : Math.floor(side / 2);
  if (side < 1) throw new ShapeError(`conv4: imageSize ${opts.imageSize} is too small for ${pooled} 2× poolings (need at least ${2 ** pooled})`);
  const featureSize = downsample === 'stride' ? hidden : hidden * side * side;

  const checkInput = (x: Tensor) => {
    if (x.rank !== 4 || x.shape[1] !== inC || x.shape[2] !== opts.imageSize || x.shape[3] !== opts.imageSize) {
      throw new ShapeError(`conv4.apply: input ${fmtShape(x.shape)} must be [N, ${inC}, ${opts.imageSize}, ${opts.imageSize}]`);
    }
  };
  const checkParams = (p: Conv4Params, head: boolean) => {
    if (!p || !p.features || !Array.isArray(p.features.blocks) || p.features.blocks.length !== 4 || (head && !p.head)) {
      throw new ShapeError(`conv4.apply: params must be { features: { blocks: [4 blocks] }${head ? ', head: { w, b }' : ''} } as made by init`);
    }
  };
  // A halving block ends in ReLU and 2× max-pooling, which batch norm does fused
  // (batchNorm's reluMaxPool option); the others in ReLU.
  const fusedPool = (i: number): boolean => i < pooled && downsample === 'maxpool';
  const finish = (h: Tensor, i: number): Tensor => (fusedPool(i) ? h : relu(h));
  // One pass through the blocks; threads batch-norm state when given.
  const run = (p: Conv4Params, x: Tensor, o: ApplyOptions, state: Conv4State | null, head = true): { h: Tensor; maps: Tensor; state: Conv4State | null } => {
    checkParams(p, head);
    checkInput(x);
    const given = (o.state as Conv4State | undefined)?.blocks;
    const next: BatchNormState[] = [];
    let h = x;
    p.features.blocks.forEach((b, i) => {
      const halve = i < pooled;
      h = conv2d.apply(b.conv, h, { padding: 1, stride: halve && downsample === 'stride' ? 2 : 1 });
      if (state) {
        const r = batchNorm.applyWithState(b.bn, state.blocks[i]!, h, bn, { training: o.training, step: o.step, reluMaxPool: fusedPool(i) });
        h = r.y;
        next.push(r.state);
      } else {
        h = batchNorm.apply(b.bn, h, bn, { training: o.training, step: o.step, state: given?.[i], reluMaxPool: fusedPool(i) });
      }
      h = finish(h, i);
    });
    const flat = downsample === 'stride' ? mean(h, [2, 3]) : flattenBatch(h);
    return { h: flat, maps: h, state: state ? { blocks: next } : null };
  };
  // T tasks at once (task-batched inner loops): the parameters are T tasks' stacked fast
  // weights, x [T, N, C, H, W]; inside, h is [N, T·C, H, W] with task-major channels, so each
  // convolution is one grouped convolution and each batch norm one batch norm over T·C
  // channels (statistics per task, as alone). Returns the features [T, N, featureSize].
  const runTasks = (p: Conv4Params, x: Tensor, o: ApplyOptions): Tensor => {
    checkParams(p, true);
    if (x.rank !== 5 || x.shape[2] !== inC || x.shape[3] !== opts.imageSize || x.shape[4] !== opts.imageSize) {
      throw new ShapeError(`conv4.applyTasks: input ${fmtShape(x.shape)} must be [T, N, ${inC}, ${opts.imageSize}, ${opts.imageSize}] (T tasks of N inputs)`);
    }
    const [t, n] = [x.shape[0]!, x.shape[1]!];
    const given = (o.state as Conv4State | undefined)?.blocks;
    let h = reshape(permute(x, [1, 0, 2, 3, 4]), [n, t * inC, opts.imageSize, opts.imageSize]);
    p.features.blocks.forEach((b, i) => {
      const halve = i < pooled;
      h = conv2d.applyTasks(b.conv, h, { padding: 1, stride: halve && downsample === 'stride' ? 2 : 1 });
      h = finish(batchNorm.applyTasks(b.bn, h, bn, { training: o.training, step: o.step, state: given?.[i], reluMaxPool: fusedPool(i) }), i);
    });
    // [N, T·C, s, s] -> [N, T, C·s·s] (each task's features in the serial flatten order) -> [T, N, F]
    const flat = downsample === 'stride' ? reshape(mean(h, [2, 3]), [n, t, hidden]) : reshape(h, [n, t, featureSize]);
    return permute(flat, [1, 0, 2]);
  };

  return {
    featureSize,
    mapSize: side,
    head: 'head',
    init(rng: Rng, o: InitOptions = {}): Conv4Params {
      const blocks: Block[] = [];
      for (let i = 0; i < 4; i++) {
        blocks.push({
          conv: conv2d.init(rng, i === 0 ? inC : hidden, hidden, 3, { ...o, init: 'glorot' }) as { w: Tensor; b: Tensor },
          bn: batchNorm.init(rng, hidden, bn, o),
        });
      }
      return { features: { blocks }, head: linear.init(rng, featureSize, opts.outputs, { ...o, init: 'glorot' }) as { w: Tensor; b: Tensor } };
    },
    initState(o: InitOptions = {}): Conv4State {
      return { blocks: Array.from({ length: 4 }, () => batchNorm.initState(hidden, bn, o)) };
    },
    apply(p: Conv4Params, x: Tensor, o: ApplyOptions = {}): Tensor {
      return linear.apply(p.head, run(p, x, o, null).h);
    },
    applyTasks(p: Conv4Params, x: Tensor, o: ApplyOptions = {}): Tensor {
      return linear.applyTasks(p.head, runTasks(p, x, o));
    },
    applyWithState(p: Conv4Params, state: ParamTree, x: Tensor, o: ApplyOptions = {}) {
      const st = state as Conv4State;
      if (!st || !Array.isArray(st.blocks) || st.blocks.length !== 4) throw new ShapeError('conv4.applyWithState: state must be { blocks: [4 × { mean, var }] } as made by initState');
      const r = run(p, x, o, st);
      return { y: linear.apply(p.head, r.h), state: r.state! };
    },
    features(p: Conv4Params, x: Tensor, o: ApplyOptions = {}): Tensor {
      return run(p, x, o, null, false).h;
    },
    featureMaps(p: Conv4Params, x: Tensor, o: ApplyOptions = {}): Tensor {
      return run(p, x, o, null, false).maps;
    },
  };
}

/** The model's representation before its head, [N, D] (ProtoNets-style embeddings). */
export function embed(model: Model<any>, params: ParamTree, x: Tensor, opts: ApplyOptions = {}): Tensor {
  if (model === null || typeof model !== 'object' || typeof model.features !== 'function') throw new ShapeError('embed: this model exposes no features() (conv4 and mlp do)');
  return model.features(params, x, opts);
}
