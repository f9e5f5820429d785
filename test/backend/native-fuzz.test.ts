// Fuzz: thousands of random calls on the native backend, through the public ops and
// directly through the kernels, with random (often invalid) shapes, dtypes, axes and
// options. Every call must either succeed or throw a MetagradError; the process must not
// crash. Calls that succeed through the public ops are replayed on js and compared (values
// and, for float inputs, gradients), so the fuzz is also a differential test.

import test from 'tape';
import * as mg from '../../ts/index.js';
import type { Backend, DType, Storage, Tensor } from '../../ts/index.js';
import { Rand, close, hostValues, nativeOrWhy, reportMissingNative } from './native-helpers.js';

const { native, why } = nativeOrWhy();
const CALLS = Number(process.env['METAGRAD_FUZZ_CALLS'] ?? 3000);
const SEED = Number(process.env['METAGRAD_FUZZ_SEED'] ?? 20260101);

interface InputPlan {
  shape: number[];
  dtype: DType;
  seed: number;
  layout: 'plain' | 'transposed' | 'sliced' | 'broadcast';
}

type OpFn = (xs: Tensor[], a: Record<string, unknown>) => Tensor;

// Each entry: how many tensor inputs, and the call. Arguments come from `a`, drawn randomly.
const OPS: Record<string, [number, OpFn]> = {
  neg: [1, ([x]) => mg.neg(x!)], exp: [1, ([x]) => mg.exp(x!)], log: [1, ([x]) => mg.log(x!)], sqrt: [1, ([x]) => mg.sqrt(x!)],
  abs: [1, ([x]) => mg.abs(x!)], tanh: [1, ([x]) => mg.tanh(x!)], sigmoid: [1, ([x]) => mg.sigmoid(x!)], relu: [1, ([x]) => mg.relu(x!)],
  sin: [1, ([x]) => mg.sin(x!)], square: [1, ([x]) => mg.square(x!)], reciprocal: [1, ([x]) => mg.reciprocal(x!)],
  round: [1, ([x]) => mg.round(x!)], gelu: [1, ([x]) => mg.gelu(x!)], softplus: [1, ([x]) => mg.softplus(x!)],
  add: [2, ([a, b]) => mg.add(a!, b!)], sub: [2, ([a, b]) => mg.sub(a!, b!)], mul: [2, ([a, b]) => mg.mul(a!, b!)],
  div: [2, ([a, b]) => mg.div(a!, b!)], pow: [2, ([a, b]) => mg.pow(mg.abs(a!), b!)], maximum: [2, ([a, b]) => mg.maximum(a!, b!)],
  minimum: [2, ([a, b]) => mg.minimum(a!, b!)], less: [2, ([a, b]) => mg.less(a!, b!)], equal: [2, ([a, b]) => mg.equal(a!, b!)],
  where: [3, ([c, a, b]) => mg.where(c!, a!, b!)],
  clamp: [1, ([x], a) => mg.clamp(x!, a['lo'] as number, a['hi'] as number)],
  cast: [1, ([x], a) => mg.cast(x!, a['dtype'] as DType)],
  sum: [1, ([x], a) => mg.sum(x!, a['axes'] as number[], { keepDims: a['keep'] as boolean })],
  mean: [1, ([x], a) => mg.mean(x!, a['axes'] as number[])],
  max: [1, ([x], a) => mg.max(x!, a['axes'] as number[])], min: [1, ([x], a) => mg.min(x!, a['axes'] as number[])],
  variance: [1, ([x], a) => mg.variance(x!, a['axes'] as number[])], logsumexp: [1, ([x], a) => mg.logsumexp(x!, a['axes'] as number[])],
  argmax: [1, ([x], a) => mg.argmax(x!, a['axis'] as number)], argmin: [1, ([x], a) => mg.argmin(x!, a['axis'] as number)],
  softmax: [1, ([x], a) => mg.softmax(x!, a['axis'] as number)], logSoftmax: [1, ([x], a) => mg.logSoftmax(x!, a['axis'] as number)],
  matmul: [2, ([a, b]) => mg.matmul(a!, b!)],
  reshape: [1, ([x], a) => mg.reshape(x!, a['shape'] as number[])], transpose: [1, ([x], a) => mg.transpose(x!, a['axis'] as number, 0)],
  broadcastTo: [1, ([x], a) => mg.broadcastTo(x!, a['shape'] as number[])],
  concat: [2, ([a, b], o) => mg.concat([a!, b!], o['axis'] as number)], stack: [2, ([a, b], o) => mg.stack([a!, b!], o['axis'] as number)],
  pad: [1, ([x], a) => mg.pad(x!, (x!.shape.map(() => [a['p0'], a['p1']]) as [number, number][]))],
  slice: [1, ([x], a) => mg.slice(x!, x!.shape.map(() => a['p0'] as number), x!.shape.map(() => a['p1'] as number))],
  takeAlongAxis: [2, ([x, i], a) => mg.takeAlongAxis(x!, i!, a['axis'] as number)],
  gather: [2, ([x, i], a) => mg.gather(x!, i!, a['axis'] as number)],
  oneHot: [1, ([l], a) => mg.oneHot(l!, a['depth'] as number)],
  conv2d: [2, ([x, w], a) => mg.conv2d(x!, w!, { stride: a['stride'] as number, padding: a['pad'] as number, dilation: a['dil'] as number, groups: a['groups'] as number })],
  maxPool2d: [1, ([x], a) => mg.maxPool2d(x!, { kernelSize: a['k'] as number, stride: a['stride'] as number, padding: a['pad'] as number })],
  avgPool2d: [1, ([x], a) => mg.avgPool2d(x!, { kernelSize: a['k'] as number, stride: a['stride'] as number })],
  crossEntropy: [2, ([l, y]) => mg.crossEntropy(l!, y!)], mse: [2, ([a, b]) => mg.mse(a!, b!)],
  linear: [3, ([x, w, b]) => mg.linear(x!, w!, b!)], cosineSimilarity: [2, ([a, b], o) => mg.cosineSimilarity(a!, b!, o['axis'] as number)],
  pairwiseSquaredDistances: [2, ([a, b]) => mg.pairwiseSquaredDistances(a!, b!)],
};
const OP_NAMES = Object.keys(OPS);

function planInputs(r: Rand, op: string, n: number): InputPlan[] {
  const base = Array.from({ length: r.int(0, 4) }, () => r.int(0, 5));
  const out: InputPlan[] = [];
  for (let i = 0; i < n; i++) {
    // mostly related shapes (so calls often succeed), sometimes anything
    let shape = base.slice();
    const roll = r.next();
    if (roll < 0.2) shape = Array.from({ length: r.int(0, 4) }, () => r.int(0, 5));
    else if (roll < 0.4 && shape.length > 0) shape[r.int(0, shape.length - 1)] = 1;
    else if (roll < 0.5) shape = shape.slice(r.int(0, shape.length));
    if (op === 'matmul' || op === 'linear' || op === 'pairwiseSquaredDistances') {
      if (r.next() < 0.7) shape = i === 0 ? [r.int(1, 5), r.int(1, 5)] : [out[0]!.shape.at(-1) ?? 1, r.int(1, 5)];
      if (op === 'linear' && i === 2) shape = [r.int(1, 5)];
    }
    if (op === 'conv2d' || op.endsWith('Pool2d')) {
      if (r.next() < 0.8) shape = i === 0 ? [r.int(1, 3), r.int(1, 4), r.int(1, 8), r.int(1, 8)] : [r.int(1, 4), out[0]!.shape[1] ?? 1, r.int(1, 3), r.int(1, 3)];
    }
    const intOp = ['takeAlongAxis', 'gather', 'oneHot', 'crossEntropy'].includes(op) && (i === 1 || op === 'oneHot');
    const dtype: DType = intOp ? (r.next() < 0.9 ? 'int32' : 'float32') : r.next() < 0.7 ? 'float32' : r.next() < 0.5 ? 'float64' : 'int32';
    const layout = r.pick(['plain', 'plain', 'transposed', 'sliced', 'broadcast'] as const);
    out.push({ shape, dtype, seed: r.int(1, 1e9), layout });
  }
  return out;
}

function planArgs(r: Rand): Record<string, unknown> {
  const axes = r.next() < 0.3 ? undefined : Array.from({ length: r.int(1, 2) }, () => r.int(-4, 4));
  return {
    axes, keep: r.next() < 0.5, axis: r.int(-4, 4), lo: r.normal(), hi: r.normal() + 1,
    dtype: r.pick(['float32', 'float64', 'int32', 'float16', 'bogus']),
    shape: Array.from({ length: r.int(0, 4) }, () => r.int(0, 5)), p0: r.int(-1, 2), p1: r.int(-1, 3),
    depth: r.int(-1, 6), stride: r.int(0, 3), pad: r.int(-1, 2), dil: r.int(0, 2), groups: r.int(0, 2), k: r.int(0, 3),
  };
}

/** Build an input tensor on a backend, in the planned layout (same values on every backend). */
function makeInput(p: InputPlan, backend: string): Tensor {
  const r = new Rand(p.seed);
  const n = p.shape.reduce((a, b) => a * b, 1);
  // indices stay small and non-negative most of the time, so gathers sometimes succeed
  const vals = p.dtype === 'int32' ? Int32Array.from({ length: n }, () => r.int(-1, 3)) : hostValues(r, n, p.dtype);
  const t = mg.tensor(vals, p.shape, { dtype: p.dtype, backend });
  switch (p.layout) {
    case 'transposed':
      return p.shape.length >= 2 ? mg.transpose(mg.contiguous(mg.transpose(t)), -2, -1) : t;
    case 'sliced': {
      const padded = mg.pad(t, p.shape.map(() => [1, 0] as [number, number]));
      return mg.slice(padded, p.shape.map(() => 1), p.shape);
    }
    case 'broadcast':
      return p.shape.length >= 1 && p.shape[0] === 1 ? mg.broadcastTo(t, p.shape) : t;
    default:
      return t;
  }
}

interface Outcome {
  ok: boolean;
  error?: unknown;
  shape?: number[];
  dtype?: DType;
  values?: ArrayLike<number>;
  grads?: ArrayLike<number>[];
}

function execute(op: string, plans: InputPlan[], args: Record<string, unknown>, backend: string, withGrad: boolean): Outcome {
  try {
    return mg.scope(() => {
      const xs = plans.map((p) => makeInput(p, backend));
      const [, fn] = OPS[op]!;
      const diff = withGrad ? xs.map((x, i) => (x.dtype !== 'int32' && !(op === 'crossEntropy' && i === 1) ? mg.requireGrad(mg.detach(x)) : x)) : xs;
      const y = fn(diff, args);
      const out: Outcome = { ok: true, shape: y.shape.slice(), dtype: y.dtype, values: y.dataSync() };
      const wrt = diff.filter((x) => x.requiresGrad);
      if (withGrad && wrt.length > 0 && y.dtype !== 'int32' && y.size > 0 && y.requiresGrad) {
        out.grads = mg.gradients(mg.sum(y), wrt).map((g) => g.dataSync());
      }
      return out;
    });
  } catch (e) {
    return { ok: false, error: e };
  }
}

/** Random direct kernel calls with random, mostly wrong, metadata. */
function kernelCall(r: Rand, b: Backend, s: Storage[]): void {
  const st = r.pick(s);
  const shape = Array.from({ length: r.int(0, 3) }, () => r.int(-1, 6));
  const strides = shape.map(() => r.int(-2, 8));
  const v = { storage: st, shape, strides, offset: r.int(-2, 10) };
  const v2 = { storage: r.pick(s), shape, strides: shape.map(() => r.int(0, 3)), offset: r.int(0, 4) };
  const dtype = r.pick(['float32', 'float64', 'int32'] as DType[]);
  const geo = () => r.int(-1, 5);
  switch (r.int(0, 11)) {
    case 0: b.unary(r.pick(['exp', 'neg', 'round', 'sqrt'] as const), v, dtype); break;
    case 1: b.binary(r.pick(['add', 'div', 'pow', 'maximum'] as const), v, v2, shape, dtype); break;
    case 2: b.reduce(r.pick(['sum', 'max', 'prod'] as const), v, shape.map((_, i) => i).filter(() => r.next() < 0.5)); break;
    case 3: b.argReduce('argmax', v, r.int(-1, 3)); break;
    case 4: b.softmax(v, r.int(0, 4), r.int(0, 4), r.next() < 0.5); break;
    case 5: b.matmul({ storage: st, offset: r.int(0, 3), batchStride: r.int(0, 9), rowStride: r.int(0, 5), colStride: r.int(0, 3) },
      { storage: r.pick(s), offset: r.int(0, 3), batchStride: r.int(0, 9), rowStride: r.int(0, 5), colStride: r.int(0, 3) },
      { batch: r.int(0, 3), m: r.int(0, 5), n: r.int(0, 5), k: r.int(0, 5) }, dtype); break;
    case 6: {
      const g = { n: geo(), cIn: geo(), h: geo(), w: geo(), cOut: geo(), kh: geo(), kw: geo(), oh: geo(), ow: geo(), strideH: geo(), strideW: geo(), padH: geo(), padW: geo(), dilationH: geo(), dilationW: geo(), groups: geo() };
      r.pick([() => b.conv2d(st, r.pick(s), g), () => b.conv2dBackwardInput(st, r.pick(s), g), () => b.conv2dBackwardFilter(st, r.pick(s), g)])();
      break;
    }
    case 7: b.maxPool2d(st, { planes: geo(), h: geo(), w: geo(), kh: geo(), kw: geo(), oh: geo(), ow: geo(), strideH: geo(), strideW: geo(), padH: geo(), padW: geo() }); break;
    case 8: b.gather(v, v2, r.int(-1, 3), shape); break;
    case 9: b.scatterAdd(v, v2, r.int(-1, 3), shape.map(() => r.int(0, 5))); break;
    case 10: b.copy(v, v2); break;
    default: b.where(v, v2, v, shape, dtype); break;
  }
}

if (!native) {
  reportMissingNative('native fuzz', why);
} else {
  test(`native fuzz: ${CALLS} random public op calls; failures are MetagradErrors, successes match js`, (t) => {
    const r = new Rand(SEED);
    let succeeded = 0, rejected = 0, compared = 0;
    const stray: string[] = [], mismatched: string[] = [];
    for (let i = 0; i < CALLS; i++) {
      const op = r.pick(OP_NAMES);
      const plans = planInputs(r, op, OPS[op]![0]);
      const args = planArgs(r);
      const withGrad = r.next() < 0.3;
      const got = execute(op, plans, args, 'native', withGrad);
      const desc = `${op} ${JSON.stringify(plans.map((p) => [p.shape, p.dtype, p.layout]))} ${JSON.stringify(args)}`;
      if (!got.ok) {
        if (got.error instanceof mg.MetagradError) rejected++;
        else stray.push(`${desc}: ${String(got.error)}`);
        continue;
      }
      succeeded++;
      const ref = execute(op, plans, args, 'js', withGrad);
      if (!ref.ok) {
        mismatched.push(`${desc}: js failed (${String(ref.error)}) where native succeeded`);
        continue;
      }
      const dt = got.dtype!;
      const rtol = dt === 'float64' ? 1e-9 : 1e-4;
      let err = JSON.stringify(got.shape) === JSON.stringify(ref.shape) ? null : `shape ${got.shape} vs ${ref.shape}`;
      err ??= close(got.values as Float64Array, ref.values as Float64Array, dt, rtol, rtol);
      for (let k = 0; !err && k < (got.grads?.length ?? 0); k++) err = close(got.grads![k] as Float64Array, ref.grads![k] as Float64Array, 'float32', 1e-3, 1e-3);
      if (err) mismatched.push(`${desc}: ${err}`);
      else compared++;
    }
    t.deepEqual(stray.slice(0, 10), [], 'every failure is a MetagradError');
    t.deepEqual(mismatched.slice(0, 10), [], 'every success matches js');
    t.ok(succeeded > CALLS / 5 && rejected > CALLS / 10, `a mix of valid and invalid calls: ${succeeded} succeeded (${compared} matched js), ${rejected} rejected`);
    t.end();
  });

  test(`native fuzz: ${CALLS} direct kernel calls with random metadata never crash`, (t) => {
    const r = new Rand(SEED + 77);
    const storages = (['float32', 'float64', 'int32'] as DType[]).flatMap((d) => [0, 1, 7, 30].map((n) => native.upload(hostValues(r, n, d, 'int'), d)));
    let ok = 0, rejected = 0;
    const stray: string[] = [];
    for (let i = 0; i < CALLS; i++) {
      try {
        kernelCall(r, native, storages);
        ok++;
      } catch (e) {
        if (e instanceof mg.BackendError) rejected++;
        else stray.push(String(e));
      }
    }
    t.deepEqual(stray.slice(0, 10), [], 'every kernel failure is a BackendError');
    t.ok(rejected > 0, `${ok} accepted, ${rejected} rejected`);
    t.end();
  });
}
