// 2-D convolution layer (NCHW): w [Cout, Cin/groups, KH, KW], b [Cout].

import { ShapeError, fmtShape } from '../core/errors.js';
import { add } from '../ops/elementwise.js';
import { conv2d as conv2dOp, type Conv2dOptions } from '../ops/conv.js';
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
    const y = conv2dOp(x, params.w, opts);
    if (!('b' in params)) return y;
    const b = params.b;
    if (b.rank !== 1 || b.shape[0] !== params.w.shape[0]) {
      throw new ShapeError(`conv2d.apply: bias ${fmtShape(b.shape)} does not fit weight ${fmtShape(params.w.shape)} (expected [${params.w.shape[0]}])`);
    }
    return add(y, reshape(b, [1, -1, 1, 1]));
  },
};
