// LSTM cell (the learned optimizers' and MANN controllers' building block).
// Gates in the order input, forget, cell, output; the forget bias starts at 1 so
// the cell remembers by default (Jozefowicz et al. 2015).

import { ShapeError, fmtShape } from '../core/errors.js';
import { add, mul, sigmoid, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { split } from '../ops/shape-ops.js';
import { concat } from '../ops/shape-ops.js';
import { ones, zeros } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkPositiveInt } from './init.js';
import type { InitOptions } from './model.js';

/** wx [in, 4H], wh [H, 4H], b [4H] */
export type LstmParams = { wx: Tensor; wh: Tensor; b: Tensor };
export type LstmState = { h: Tensor; c: Tensor };

export const lstmCell = {
  init(rng: Rng, inputSize: number, hiddenSize: number, opts: InitOptions = {}): LstmParams {
    checkPositiveInt(inputSize, 'inputSize', 'lstmCell.init');
    checkPositiveInt(hiddenSize, 'hiddenSize', 'lstmCell.init');
    const o = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    const k = 1 / Math.sqrt(hiddenSize);
    const H = hiddenSize;
    const b = concat([zeros([H], o), ones([H], o), zeros([2 * H], o)]);
    return { wx: rng.uniform([inputSize, 4 * H], -k, k, o), wh: rng.uniform([H, 4 * H], -k, k, o), b };
  },

  /** Zero hidden and cell state for a batch of n. */
  initState(n: number, hiddenSize: number, opts: InitOptions = {}): LstmState {
    const o = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    return { h: zeros([n, hiddenSize], o), c: zeros([n, hiddenSize], o) };
  },

  /** x [N, in], state h/c [N, H] -> the next state. */
  apply(params: LstmParams, x: Tensor, state: LstmState): LstmState {
    const H = params.wh.shape[0]!;
    if (x.rank !== 2 || x.shape[1] !== params.wx.shape[0]) {
      throw new ShapeError(`lstmCell.apply: input ${fmtShape(x.shape)} must be [N, ${params.wx.shape[0]}]`);
    }
    for (const [k, t] of [['h', state.h], ['c', state.c]] as const) {
      if (t.rank !== 2 || t.shape[0] !== x.shape[0] || t.shape[1] !== H) {
        throw new ShapeError(`lstmCell.apply: state ${k} ${fmtShape(t.shape)} must be [${x.shape[0]}, ${H}]`);
      }
    }
    const z = add(linear(x, params.wx, params.b), linear(state.h, params.wh));
    const [i, f, g, o] = split(z, [H, H, H, H], 1) as [Tensor, Tensor, Tensor, Tensor];
    const c = add(mul(sigmoid(f), state.c), mul(sigmoid(i), tanh(g)));
    const h = mul(sigmoid(o), tanh(c));
    return { h, c };
  },
};
