// 2-D convolution layer (NCHW): w [Cout, Cin/groups, KH, KW], b [Cout].

import { ShapeError, fmtShape } from '../core/errors.js';
import { conv2d as conv2dOp, conv2dBias, type Conv2dOptions } from '../ops/conv.js';
import { reshape } from '../ops/shape-ops.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkPositiveInt, initWeight, type Initializer } from './init.js';
import type { InitOptions } from './model.js';

export type Conv2dParams = { w: Tensor; b: Tensor } | { w: Tensor };

export interface Conv2dInitOptions extends InitOptions {
  bias?: boolean;
  groups?: number;
  /** weight initializer (default 'uniform'); bias is U(±1/sqrt(fanIn)) for 'uniform', zeros otherwise */
  init?: Initializer;
}

export const conv2d = {
  init(rng: Rng, inChannels: number, outChannels: number, kernelSize: number | [number, number], opts: Conv2dInitOptions = {}): Conv2dParams {
    checkPositiveInt(inChannels, 'inChannels', 'conv2d.init');
    checkPositiveInt(outChannels, 'outChannels', 'conv2d.init');
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    checkPositiveInt(kh, 'kernel height', 'conv2d.init');
    checkPositiveInt(kw, 'kernel width', 'conv2d.init');
    const groups = opts.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ShapeError(`conv2d.init: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    const fanIn = (inChannels / groups) * kh * kw, fanOut = (outChannels / groups) * kh * kw;
    const kind = opts.init ?? 'uniform';
    const w = initWeight(rng, [outChannels, inChannels / groups, kh, kw], fanIn, fanOut, kind, opts);
    if (opts.bias === false) return { w };
    return { w, b: initWeight(rng, [outChannels], fanIn, fanOut, kind === 'uniform' ? 'uniform' : 'zeros', opts) };
  },
  /** x [N, Cin, H, W] -> [N, Cout, OH, OW] */
  apply(params: Conv2dParams, x: Tensor, opts: Conv2dOptions = {}): Tensor {
    if (!('b' in params)) return conv2dOp(x, params.w, opts);
    const b = params.b;
    if (b.rank !== 1 || b.shape[0] !== params.w.shape[0]) {
      throw new ShapeError(`conv2d.apply: bias ${fmtShape(b.shape)} does not fit weight ${fmtShape(params.w.shape)} (expected [${params.w.shape[0]}])`);
    }
    return conv2dBias(x, params.w, b, opts);
  },
  /**
   * T tasks' layers at once (task-batched inner loops) as one grouped convolution: w
   * [T, Cout, Cin/groups, KH, KW] and b [T, Cout] (each task's fast weights stacked), x
   * [N, T·Cin, H, W] with task t's channels at t·Cin .. (t+1)·Cin - 1 (the same N inputs per
   * task) -> [N, T·Cout, OH, OW] in the same task-major channel order.
   */
  applyTasks(params: Conv2dParams, x: Tensor, opts: Conv2dOptions = {}): Tensor {
    const w = params.w;
    if (w.rank !== 5) throw new ShapeError(`conv2d.applyTasks: weight ${fmtShape(w.shape)} must be task-stacked [T, Cout, Cin/groups, KH, KW]`);
    const [t, cOut] = [w.shape[0]!, w.shape[1]!];
    const groups = opts.groups ?? 1;
    if (x.rank !== 4 || x.shape[1]! % t !== 0) throw new ShapeError(`conv2d.applyTasks: input ${fmtShape(x.shape)} must be [N, T·Cin, H, W] for ${t} tasks`);
    const wt = reshape(w, [t * cOut, ...w.shape.slice(2)]), o = { ...opts, groups: t * groups };
    if (!('b' in params)) return conv2dOp(x, wt, o);
    const b = params.b;
    if (b.rank !== 2 || b.shape[0] !== t || b.shape[1] !== cOut) {
      throw new ShapeError(`conv2d.applyTasks: bias ${fmtShape(b.shape)} does not fit task-stacked weight ${fmtShape(w.shape)} (expected [${t}, ${cOut}])`);
    }
    return conv2dBias(x, wt, reshape(b, [-1]), o);
  },
};
