// The op table every derivative and backend check runs over: each case names an op
// configuration, how to draw its inputs, and (where tfjs has the op) how tfjs computes it.
// test/autodiff/gradcheck-ops.test.ts checks first and second derivatives of every case in
// float64; test/backend/parity.test.ts runs every case on each other backend against js;
// test/ops/tfjs-parity.test.ts compares forward values with @tensorflow/tfjs (cpu).

import * as mg from '../../ts/index.js';
import type { Tensor } from '../../ts/index.js';

/** How an input's values are drawn. */
export type Domain =
  | 'normal'      // roughly N(0, 1)
  | 'positive'    // in [0.5, 2]
  | 'away'        // |x| in [0.3, 1.3] with random sign: away from kinks at 0
  | 'unit'        // in (-0.9, 0.9)
  | 'prob';       // in [0.05, 0.95]

export interface InputSpec {
  shape: number[];
  domain?: Domain;
  /** int32 input with these fixed values (indices, labels); never differentiated */
  ints?: number[];
  /** fixed float values, not differentiated (e.g. a where() condition) */
  constant?: number[];
  /** build the input as a transposed (non-contiguous) view of the given shape */
  transposed?: boolean;
}

// tfjs is typed loosely here on purpose: the table only calls a handful of its ops.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TF = any;

export interface OpCase {
  name: string;
  inputs: InputSpec[];
  fn: (...xs: Tensor[]) => Tensor;
  /** the same computation in tfjs (float32), on tf tensors made from the same values */
  tfjs?: (tf: TF, ...xs: TF[]) => TF;
  /** false for ops with no derivative (comparisons, argmax, oneHot) */
  differentiable?: boolean;
  /** parity tolerance multiplier for float32 backends (ops with large intermediate values) */
  tolScale?: number;
}

const t = mg;

// NCHW <-> NHWC for tfjs, which only does channels-last on its cpu backend.
const nhwc = (tf: TF, x: TF) => tf.transpose(x, [0, 2, 3, 1]);
const nchw = (tf: TF, x: TF) => tf.transpose(x, [0, 3, 1, 2]);
const hwio = (tf: TF, w: TF) => tf.transpose(w, [2, 3, 1, 0]);

/** A well-conditioned SPD matrix from any square x: x xᵀ / n + I. */
const spd = (x: Tensor): Tensor => {
  const n = x.shape[x.rank - 1]!;
  return t.add(t.div(t.matmul(x, t.transpose(x)), n), t.eye(n, n, { dtype: x.dtype, backend: x.backend }));
};
/** x + s·I: entries of x in (-0.9, 0.9) and s > 0.9 n keep the symmetric part positive-definite (and a triangle's diagonal away from 0). */
const shifted = (x: Tensor, s: number): Tensor => {
  const n = x.shape[x.rank - 1]!;
  return t.add(x, t.mul(t.eye(n, n, { dtype: x.dtype, backend: x.backend }), s));
};

const unary = (name: string, fn: (x: Tensor) => Tensor, tfName: string | null, domain: Domain = 'normal', shape = [3, 4]): OpCase[] => [
  { name, inputs: [{ shape, domain }], fn, tfjs: tfName ? (tf, x) => tf[tfName](x) : undefined },
  { name: `${name}/strided`, inputs: [{ shape: [4, 3], domain, transposed: true }], fn, tfjs: tfName ? (tf, x) => tf[tfName](x) : undefined },
];

const binary = (name: string, fn: (a: Tensor, b: Tensor) => Tensor, tfName: string, da: Domain = 'normal', db: Domain = 'normal'): OpCase[] => [
  { name, inputs: [{ shape: [2, 3], domain: da }, { shape: [2, 3], domain: db }], fn, tfjs: (tf, a, b) => tf[tfName](a, b) },
  { name: `${name}/broadcast`, inputs: [{ shape: [3, 1, 4], domain: da }, { shape: [2, 4], domain: db }], fn, tfjs: (tf, a, b) => tf[tfName](a, b) },
  { name: `${name}/strided-scalar`, inputs: [{ shape: [3, 2], domain: da, transposed: true }, { shape: [], domain: db }], fn, tfjs: (tf, a, b) => tf[tfName](a, b) },
];

export const opCases: OpCase[] = [
  // --- elementwise unary
  ...unary('neg', t.neg, 'neg'),
  ...unary('exp', t.exp, 'exp'),
  ...unary('log', t.log, 'log', 'positive'),
  ...unary('sqrt', t.sqrt, 'sqrt', 'positive'),
  ...unary('abs', t.abs, 'abs', 'away'),
  ...unary('tanh', t.tanh, 'tanh'),
  ...unary('sigmoid', t.sigmoid, 'sigmoid'),
  ...unary('relu', t.relu, 'relu', 'away'),
  ...unary('sin', t.sin, 'sin'),
  ...unary('cos', t.cos, 'cos'),
  ...unary('square', t.square, 'square'),
  ...unary('reciprocal', t.reciprocal, 'reciprocal', 'away'),
  ...unary('log1p', t.log1p, 'log1p', 'positive'),
  ...unary('expm1', t.expm1, 'expm1'),
  { name: 'sign', inputs: [{ shape: [3, 4], domain: 'away' }], fn: t.sign, tfjs: (tf, x) => tf.sign(x) },
  { name: 'leakyRelu', inputs: [{ shape: [3, 4], domain: 'away' }], fn: (x) => t.leakyRelu(x, 0.2), tfjs: (tf, x) => tf.leakyRelu(x, 0.2) },
  { name: 'elu', inputs: [{ shape: [3, 4], domain: 'away' }], fn: (x) => t.elu(x), tfjs: (tf, x) => tf.elu(x) },
  { name: 'softplus', inputs: [{ shape: [3, 4] }], fn: t.softplus, tfjs: (tf, x) => tf.softplus(x) },
  { name: 'gelu', inputs: [{ shape: [3, 4] }], fn: t.gelu },
  { name: 'silu', inputs: [{ shape: [3, 4] }], fn: t.silu },
  // --- elementwise binary (broadcasting, strided views, scalars)
  ...binary('add', t.add, 'add'),
  ...binary('sub', t.sub, 'sub'),
  ...binary('mul', t.mul, 'mul'),
  ...binary('div', t.div, 'div', 'normal', 'away'),
  ...binary('pow', t.pow, 'pow', 'positive', 'normal'),
  ...binary('maximum', t.maximum, 'maximum'),
  ...binary('minimum', t.minimum, 'minimum'),
  {
    name: 'where',
    inputs: [{ shape: [2, 3], constant: [1, 0, 1, 0, 0, 1] }, { shape: [2, 3] }, { shape: [3] }],
    fn: (c, a, b) => t.where(c, a, b),
    tfjs: (tf, c, a, b) => tf.where(tf.cast(c, 'bool'), a, tf.broadcastTo(b, [2, 3])),
  },
  { name: 'clamp', inputs: [{ shape: [3, 4], domain: 'away' }], fn: (x) => t.clamp(x, -0.8, 0.7), tfjs: (tf, x) => tf.clipByValue(x, -0.8, 0.7) },
  { name: 'comparisons', inputs: [{ shape: [2, 3] }, { shape: [3] }], fn: (a, b) => t.add(t.greater(a, b), t.mul(t.lessEqual(a, b), 2)), differentiable: false,
    tfjs: (tf, a, b) => tf.add(tf.cast(tf.greater(a, b), 'float32'), tf.mul(tf.cast(tf.lessEqual(a, b), 'float32'), 2)) },
  // --- reductions
  { name: 'sum/all', inputs: [{ shape: [3, 4] }], fn: (x) => t.sum(x), tfjs: (tf, x) => tf.sum(x) },
  { name: 'sum/axes-keepdims', inputs: [{ shape: [2, 3, 4] }], fn: (x) => t.sum(x, [0, 2], { keepDims: true }), tfjs: (tf, x) => tf.sum(x, [0, 2], true) },
  { name: 'sum/strided', inputs: [{ shape: [4, 3], transposed: true }], fn: (x) => t.sum(x, 1), tfjs: (tf, x) => tf.sum(x, 1) },
  { name: 'mean', inputs: [{ shape: [2, 3, 4] }], fn: (x) => t.mean(x, [1]), tfjs: (tf, x) => tf.mean(x, [1]) },
  { name: 'max', inputs: [{ shape: [3, 5] }], fn: (x) => t.max(x, 1), tfjs: (tf, x) => tf.max(x, 1) },
  { name: 'max/all', inputs: [{ shape: [2, 3, 2] }], fn: (x) => t.max(x), tfjs: (tf, x) => tf.max(x) },
  { name: 'min', inputs: [{ shape: [3, 5] }], fn: (x) => t.min(x, [0], { keepDims: true }), tfjs: (tf, x) => tf.min(x, [0], true) },
  { name: 'variance', inputs: [{ shape: [3, 5] }], fn: (x) => t.variance(x, 1), tfjs: (tf, x) => tf.moments(x, 1).variance },
  { name: 'logsumexp', inputs: [{ shape: [3, 5] }], fn: (x) => t.logsumexp(x, 1), tfjs: (tf, x) => tf.logSumExp(x, 1) },
  { name: 'softmax', inputs: [{ shape: [3, 5] }], fn: (x) => t.softmax(x), tfjs: (tf, x) => tf.softmax(x) },
  { name: 'softmax/axis0', inputs: [{ shape: [4, 3] }], fn: (x) => t.softmax(x, 0), tfjs: (tf, x) => tf.transpose(tf.softmax(tf.transpose(x))) },
  { name: 'logSoftmax', inputs: [{ shape: [3, 5] }], fn: (x) => t.logSoftmax(x), tfjs: (tf, x) => tf.logSoftmax(x) },
  { name: 'argmax', inputs: [{ shape: [3, 5] }], fn: (x) => t.cast(t.argmax(x, 1), 'float32'), differentiable: false, tfjs: (tf, x) => tf.cast(tf.argMax(x, 1), 'float32') },
  // --- matmul
  { name: 'matmul', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], fn: t.matmul, tfjs: (tf, a, b) => tf.matMul(a, b) },
  { name: 'matmul/batched-broadcast', inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2] }], fn: t.matmul, tfjs: (tf, a, b) => tf.matMul(a, tf.broadcastTo(b, [2, 4, 2])) },
  { name: 'matmul/batch-dims', inputs: [{ shape: [2, 1, 2, 3] }, { shape: [3, 3, 2] }], fn: t.matmul },
  { name: 'matmul/transposed-operands', inputs: [{ shape: [3, 4], transposed: true }, { shape: [4, 2], transposed: true }], fn: t.matmul, tfjs: (tf, a, b) => tf.matMul(a, b) },
  { name: 'matmul/vector', inputs: [{ shape: [4] }, { shape: [4, 3] }], fn: t.matmul },
  { name: 'linear', inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2] }, { shape: [2] }], fn: (x, w, b) => t.linear(x, w, b) },
  // --- SPD linear algebra (cholesky and solve read the symmetric part, so any perturbation is fair)
  { name: 'cholesky', inputs: [{ shape: [3, 3] }], fn: (x) => t.cholesky(spd(x)) },
  { name: 'cholesky/batched', inputs: [{ shape: [2, 4, 4] }], fn: (x) => t.cholesky(spd(x)) },
  { name: 'cholesky/unsymmetric-input', inputs: [{ shape: [3, 3], domain: 'unit' }], fn: (x) => t.cholesky(shifted(x, 3)) },
  { name: 'triangularSolve/lower', inputs: [{ shape: [3, 3], domain: 'unit' }, { shape: [3, 2] }], fn: (a, b) => t.triangularSolve(shifted(a, 2), b) },
  { name: 'triangularSolve/upper-broadcast', inputs: [{ shape: [2, 3, 3], domain: 'unit' }, { shape: [3, 2] }], fn: (a, b) => t.triangularSolve(shifted(a, 2), b, { lower: false }) },
  { name: 'triangularSolve/strided', inputs: [{ shape: [3, 3], domain: 'unit', transposed: true }, { shape: [2, 3, 2], transposed: true }], fn: (a, b) => t.triangularSolve(shifted(a, 2), b) },
  { name: 'solve', inputs: [{ shape: [3, 3], domain: 'unit' }, { shape: [3, 2] }], fn: (a, b) => t.solve(shifted(a, 3), b) },
  { name: 'solve/batched-vector', inputs: [{ shape: [2, 3, 3] }, { shape: [3] }], fn: (a, b) => t.solve(spd(a), b) },
  { name: 'solve/broadcast-rhs', inputs: [{ shape: [4, 4] }, { shape: [2, 4, 3] }], fn: (a, b) => t.solve(spd(a), b) },
  // --- shapes
  { name: 'reshape', inputs: [{ shape: [2, 6] }], fn: (x) => t.reshape(x, [3, -1]), tfjs: (tf, x) => tf.reshape(x, [3, 4]) },
  { name: 'reshape/strided', inputs: [{ shape: [4, 3], transposed: true }], fn: (x) => t.reshape(x, [2, 6]), tfjs: (tf, x) => tf.reshape(x, [2, 6]) },
  { name: 'transpose', inputs: [{ shape: [2, 3, 4] }], fn: (x) => t.mul(t.transpose(x, 0, 2), 1), tfjs: (tf, x) => tf.transpose(x, [2, 1, 0]) },
  { name: 'permute', inputs: [{ shape: [2, 3, 4] }], fn: (x) => t.exp(t.permute(x, [1, 2, 0])), tfjs: (tf, x) => tf.exp(tf.transpose(x, [1, 2, 0])) },
  { name: 'expandDims-squeeze', inputs: [{ shape: [3, 1, 2] }], fn: (x) => t.expandDims(t.squeeze(x), 0), tfjs: (tf, x) => tf.expandDims(tf.squeeze(x), 0) },
  { name: 'broadcastTo', inputs: [{ shape: [3, 1] }], fn: (x) => t.mul(t.broadcastTo(x, [2, 3, 4]), 1), tfjs: (tf, x) => tf.broadcastTo(x, [2, 3, 4]) },
  { name: 'slice', inputs: [{ shape: [4, 5] }], fn: (x) => t.slice(x, [1, 2], [2, -1]), tfjs: (tf, x) => tf.slice(x, [1, 2], [2, -1]) },
  { name: 'concat', inputs: [{ shape: [2, 3] }, { shape: [2, 2] }], fn: (a, b) => t.concat([a, b], 1), tfjs: (tf, a, b) => tf.concat([a, b], 1) },
  { name: 'stack', inputs: [{ shape: [2, 3] }, { shape: [2, 3], transposed: true }], fn: (a, b) => t.stack([a, b], 1), tfjs: (tf, a, b) => tf.stack([a, b], 1) },
  { name: 'pad', inputs: [{ shape: [2, 3] }], fn: (x) => t.pad(x, [[1, 0], [2, 1]]), tfjs: (tf, x) => tf.pad(x, [[1, 0], [2, 1]]) },
  { name: 'split', inputs: [{ shape: [5, 2] }], fn: (x) => { const [a, b] = t.split(x, [2, 3], 0); return t.add(t.sum(a!, 0), t.sum(t.mul(b!, b!), 0)); } },
  // --- indexing
  { name: 'gather', inputs: [{ shape: [4, 3] }, { shape: [5], ints: [3, 0, 0, 2, 1] }], fn: (x, i) => t.gather(x, i, 0), tfjs: (tf, x, i) => tf.gather(x, i, 0) },
  { name: 'gather/axis1', inputs: [{ shape: [2, 4] }, { shape: [2, 2], ints: [3, 1, 1, 0] }], fn: (x, i) => t.gather(x, i, 1), tfjs: (tf, x, i) => tf.gather(x, i, 1) },
  { name: 'takeAlongAxis', inputs: [{ shape: [3, 4] }, { shape: [3, 2], ints: [0, 3, 2, 2, 1, 0] }], fn: (x, i) => t.takeAlongAxis(x, i, 1) },
  { name: 'scatterAdd', inputs: [{ shape: [3, 2] }, { shape: [3, 2], ints: [0, 3, 2, 2, 1, 0] }], fn: (u, i) => t.scatterAdd(u, i, 1, [3, 4]) },
  { name: 'oneHot', inputs: [{ shape: [4], ints: [2, 0, 1, 2] }], fn: (i) => t.oneHot(i, 3), differentiable: false, tfjs: (tf, i) => tf.oneHot(i, 3) },
  // --- convolution and pooling (NCHW)
  { name: 'conv2d', inputs: [{ shape: [2, 2, 5, 5] }, { shape: [3, 2, 3, 3] }], fn: (x, w) => t.conv2d(x, w),
    tfjs: (tf, x, w) => nchw(tf, tf.conv2d(nhwc(tf, x), hwio(tf, w), 1, 'valid')) },
  { name: 'conv2d/stride-padding', inputs: [{ shape: [1, 2, 6, 5] }, { shape: [2, 2, 3, 2] }], fn: (x, w) => t.conv2d(x, w, { stride: [2, 1], padding: [1, 1] }),
    tfjs: (tf, x, w) => nchw(tf, tf.conv2d(tf.pad(nhwc(tf, x), [[0, 0], [1, 1], [1, 1], [0, 0]]), hwio(tf, w), [2, 1], 'valid')) },
  { name: 'conv2d/dilation', inputs: [{ shape: [1, 1, 6, 6] }, { shape: [2, 1, 2, 2] }], fn: (x, w) => t.conv2d(x, w, { dilation: 2 }),
    tfjs: (tf, x, w) => nchw(tf, tf.conv2d(nhwc(tf, x), hwio(tf, w), 1, 'valid', 'NHWC', 2)) },
  { name: 'conv2d/groups', inputs: [{ shape: [1, 4, 4, 4] }, { shape: [4, 2, 2, 2] }], fn: (x, w) => t.conv2d(x, w, { groups: 2, padding: 1 }) },
  { name: 'conv2dBias', inputs: [{ shape: [2, 2, 5, 5] }, { shape: [3, 2, 3, 3] }, { shape: [3] }], fn: (x, w, b) => t.conv2dBias(x, w, b, { padding: 1 }),
    tfjs: (tf, x, w, b) => nchw(tf, tf.add(tf.conv2d(tf.pad(nhwc(tf, x), [[0, 0], [1, 1], [1, 1], [0, 0]]), hwio(tf, w), 1, 'valid'), b)) },
  { name: 'conv2dBias/groups-stride', inputs: [{ shape: [1, 4, 5, 4] }, { shape: [4, 2, 2, 2] }, { shape: [4] }], fn: (x, w, b) => t.conv2dBias(x, w, b, { groups: 2, stride: 2, padding: 1 }) },
  { name: 'conv2d/strided-input', inputs: [{ shape: [1, 1, 4, 5], transposed: true }, { shape: [2, 1, 2, 2] }], fn: (x, w) => t.conv2d(x, w) },
  { name: 'conv2dBackwardInput', inputs: [{ shape: [1, 3, 3, 3] }, { shape: [3, 2, 2, 2] }], fn: (dy, w) => t.conv2dBackwardInput(dy, w, [6, 6], { stride: 2 }),
    tfjs: (tf, dy, w) => nchw(tf, tf.conv2dTranspose(nhwc(tf, dy), hwio(tf, w), [1, 6, 6, 2], 2, 'valid')) },
  { name: 'conv2dBackwardFilter', inputs: [{ shape: [2, 2, 4, 4] }, { shape: [2, 3, 3, 3] }], fn: (x, dy) => t.conv2dBackwardFilter(x, dy, [2, 2], {}) },
  { name: 'maxPool2d', inputs: [{ shape: [2, 2, 4, 4] }], fn: (x) => t.maxPool2d(x, { kernelSize: 2 }),
    tfjs: (tf, x) => nchw(tf, tf.maxPool(nhwc(tf, x), 2, 2, 'valid')) },
  { name: 'maxPool2d/overlap-padding', inputs: [{ shape: [1, 2, 5, 5] }], fn: (x) => t.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }) },
  { name: 'avgPool2d', inputs: [{ shape: [1, 2, 4, 6] }], fn: (x) => t.avgPool2d(x, { kernelSize: 2 }),
    tfjs: (tf, x) => nchw(tf, tf.avgPool(nhwc(tf, x), 2, 2, 'valid')) },
  // --- fused per-channel ops (batch norm) and relu's mask
  { name: 'batchNormTrain', inputs: [{ shape: [3, 2, 2, 2] }, { shape: [2] }, { shape: [2] }], fn: (x, g, b) => t.batchNormTrain(x, g, b).y,
    tfjs: (tf, x, g, b) => {
      const m = tf.moments(nhwc(tf, x), [0, 1, 2]);
      return nchw(tf, tf.batchNorm(nhwc(tf, x), m.mean, m.variance, b, g, 1e-5));
    } },
  { name: 'batchNormTrain/2d-strided', inputs: [{ shape: [3, 4], transposed: true }, { shape: [4] }, { shape: [4] }], fn: (x, g, b) => t.batchNormTrain(x, g, b, 1e-3).y },
  { name: 'batchNormTrain/statistics', inputs: [{ shape: [4, 3, 2] }, { shape: [3] }, { shape: [3] }],
    fn: (x, g, b) => t.noGrad(() => { const r = t.batchNormTrain(x, g, b); return t.concat([r.mean, r.variance]); }), differentiable: false },
  { name: 'batchNormBackward', inputs: [{ shape: [2, 3, 3] }, { shape: [2, 3, 3] }, { shape: [3] }], fn: (g, xh, w) => t.batchNormBackward(g, xh, w) },
  // the fused kernel's three outputs together (one cotangent over all), and its two sums alone
  { name: 'batchNormBackwardSums', inputs: [{ shape: [2, 3, 3] }, { shape: [2, 3, 3] }, { shape: [3] }],
    fn: (g, xh, w) => { const r = t.batchNormBackwardSums(g, xh, w); return t.concat([t.reshape(r.dx, [-1]), r.sumG, r.sumGX]); } },
  { name: 'batchNormBackwardSums/sums', inputs: [{ shape: [3, 2, 2] }, { shape: [3, 2, 2] }, { shape: [2] }],
    fn: (g, xh, w) => { const r = t.batchNormBackwardSums(g, xh, w); return t.concat([r.sumG, t.mul(r.sumGX, 0.5)]); } },
  // relu(maxPool2d(batchNormTrain(x).y)) fused: an odd width (a column in no window), and a square plane
  { name: 'batchNormReluMaxPool', inputs: [{ shape: [2, 3, 4, 5] }, { shape: [3] }, { shape: [3] }], fn: (x, g, b) => t.batchNormReluMaxPool(x, g, b, 1e-3).y },
  { name: 'batchNormReluMaxPool/square', inputs: [{ shape: [3, 2, 4, 4] }, { shape: [2] }, { shape: [2] }], fn: (x, g, b) => t.batchNormReluMaxPool(x, g, b).y },
  { name: 'batchNormReluMaxPool/statistics', inputs: [{ shape: [2, 3, 2, 2] }, { shape: [3] }, { shape: [3] }],
    fn: (x, g, b) => t.noGrad(() => { const r = t.batchNormReluMaxPool(x, g, b); return t.concat([r.mean, r.variance]); }), differentiable: false },
  { name: 'batchNormInference', inputs: [{ shape: [2, 3, 2] }, { shape: [3], constant: [0.3, -0.5, 1] }, { shape: [3], constant: [0.8, 1.5, 0.2] }, { shape: [3] }, { shape: [3] }],
    fn: (x, m, v, g, b) => t.batchNormInference(x, m, v, g, b),
    tfjs: (tf, x, m, v, g, b) => tf.transpose(tf.batchNorm(tf.transpose(x, [0, 2, 1]), m, v, b, g, 1e-5), [0, 2, 1]) },
  { name: 'channelAffine', inputs: [{ shape: [2, 3, 4] }, { shape: [3] }, { shape: [3] }], fn: (x, s, b) => t.channelAffine(x, s, b) },
  { name: 'channelAffine/no-shift', inputs: [{ shape: [3, 2] }, { shape: [2] }], fn: (x, s) => t.channelAffine(x, s) },
  { name: 'channelDot', inputs: [{ shape: [2, 3, 5] }, { shape: [2, 3, 5] }], fn: (a, b) => t.channelDot(a, b) },
  { name: 'reluMask', inputs: [{ shape: [3, 4] }, { shape: [3, 4], domain: 'away' }], fn: (g, x) => t.reluMask(g, x) },
  { name: 'reluMask/broadcast', inputs: [{ shape: [2, 1, 4] }, { shape: [3, 4], domain: 'away' }], fn: (g, x) => t.reluMask(g, x) },
  // --- losses and distances
  { name: 'mse', inputs: [{ shape: [4, 2] }, { shape: [4, 2] }], fn: (p, y) => t.mse(p, y), tfjs: (tf, p, y) => tf.losses.meanSquaredError(y, p) },
  { name: 'crossEntropy', inputs: [{ shape: [4, 3] }, { shape: [4], ints: [2, 0, 1, 1] }], fn: (x, y) => t.crossEntropy(x, y),
    tfjs: (tf, x, y) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), x) },
  { name: 'softCrossEntropy', inputs: [{ shape: [2, 3] }, { shape: [2, 3], domain: 'prob' }], fn: (x, p) => t.softCrossEntropy(x, p) },
  { name: 'binaryCrossEntropy', inputs: [{ shape: [3, 2] }, { shape: [3, 2], domain: 'prob' }], fn: (x, y) => t.binaryCrossEntropy(x, y),
    tfjs: (tf, x, y) => tf.losses.sigmoidCrossEntropy(y, x) },
  { name: 'cosineSimilarity', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], fn: (a, b) => t.cosineSimilarity(a, b),
    tfjs: (tf, a, b) => tf.div(tf.sum(tf.mul(a, b), -1), tf.mul(tf.norm(a, 'euclidean', -1), tf.norm(b, 'euclidean', -1))) },
  { name: 'pairwiseSquaredDistances', inputs: [{ shape: [3, 4] }, { shape: [2, 4] }], fn: (a, b) => t.pairwiseSquaredDistances(a, b),
    tfjs: (tf, a, b) => tf.sum(tf.square(tf.sub(tf.expandDims(a, 1), tf.expandDims(b, 0))), -1) },
];

/** Deterministic input values for a case (float64 host arrays; ints as given). */
export function drawInputs(c: OpCase, seed: number): { spec: InputSpec; values: number[] }[] {
  const rng = new mg.Rng(seed);
  return c.inputs.map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.ints) return { spec, values: spec.ints.slice() };
    if (spec.constant) return { spec, values: spec.constant.slice() };
    const values = Array.from({ length: n }, () => {
      const u = rng.nextFloat();
      switch (spec.domain ?? 'normal') {
        case 'positive': return 0.5 + 1.5 * u;
        case 'away': return (rng.nextFloat() < 0.5 ? -1 : 1) * (0.3 + u);
        case 'unit': return -0.9 + 1.8 * u;
        case 'prob': return 0.05 + 0.9 * u;
        default: return rng.nextNormal();
      }
    });
    return { spec, values };
  });
}

/** Build the tensors of a case on a backend in a dtype (transposed specs become strided views). */
export function makeInputs(c: OpCase, seed: number, dtype: 'float32' | 'float64', backend: string): Tensor[] {
  return drawInputs(c, seed).map(({ spec, values }) => {
    if (spec.ints) return mg.tensor(Int32Array.from(values), spec.shape, { dtype: 'int32', backend });
    if (spec.transposed) {
      const [r, k] = [spec.shape[spec.shape.length - 2]!, spec.shape[spec.shape.length - 1]!];
      const lead = spec.shape.slice(0, -2);
      // store the transpose of the logical values contiguously, then view it transposed:
      // the view holds exactly `values` in logical row-major order, through strides
      const stored = new Array<number>(values.length);
      const plane = r * k;
      for (let b = 0; b < values.length / plane; b++)
        for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) stored[b * plane + j * r + i] = values[b * plane + i * k + j]!;
      return mg.transpose(mg.tensor(stored, [...lead, k, r], { dtype, backend }));
    }
    return mg.tensor(values, spec.shape, { dtype, backend });
  });
}

/** Indices of the inputs that are differentiated. */
export function diffInputs(c: OpCase): number[] {
  if (c.differentiable === false) return [];
  return c.inputs.flatMap((s, i) => (s.ints || s.constant ? [] : [i]));
}
