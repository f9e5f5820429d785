// The reference backend: plain TypeScript over typed arrays, float32, float64 and int32.
// Clear rather than fast; every other backend is checked against it.

import { BackendError } from '../../core/errors.js';
import { type DType, type TypedArray, hostArray } from '../../core/dtype.js';
import { philoxFill } from '../../core/philox.js';
import type {
  ArgReduceOp, Backend, BinaryOp, ChannelDims, Conv2dGeometry, MatView, MatmulDims, MemoryInfo, Pool2dGeometry,
  RandomKind, ReduceOp, Storage, TriangularSolveDims, UnaryOp, View,
} from '../kernels.js';
import { permuteView, reductionLayout, viewOffsets } from '../strided.js';
import { composeBatchNormReluMaxPool, composeBatchNormReluMaxPoolBackward, type BatchNormReluMaxPoolResult } from '../bn-relu-pool.js';

export class HostStorage implements Storage {
  constructor(readonly backend: string, readonly dtype: DType, readonly data: TypedArray) {}
  get size(): number {
    return this.data.length;
  }
}

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 || Number.isNaN(x) ? x : 0), // NaN propagates, as in PyTorch and numpy
  sin: Math.sin,
  cos: Math.cos,
  step: (x) => (x > 0 ? 1 : 0),
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  log1p: Math.log1p,
  expm1: Math.expm1,
  floor: Math.floor,
  ceil: Math.ceil,
  round: (x) => {
    // round half to even, as numpy and tfjs do
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
};

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  reluMask: (a, b) => (b > 0 ? a : 0),
};

const intBinary: Partial<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: (a, b) => Math.imul(a, b),
  div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
};

/**
 * The one walk over a convolution's windows that conv2d and its two backward kernels share.
 * For every product of the forward convolution, with flat indices y (output), x (input) and
 * w (weight) — outputs in NCHW order, each output's products in (ci, ky, kx) order, taps in the
 * padding left out — it adds into `acc`:
 *   'output': acc[y] += a[x] · b[w]   (a = x, b = w: the convolution)
 *   'input':  acc[x] += a[y] · b[w]   (a = dy, b = w: the gradient of the input)
 *   'filter': acc[w] += a[y] · b[x]   (a = dy, b = x: the gradient of the filter)
 * The two gradients skip the outputs whose dy is 0.
 */
function convAccumulate(g: Conv2dGeometry, into: 'output' | 'input' | 'filter', a: TypedArray, b: TypedArray, acc: Float64Array): void {
  const cig = g.cIn / g.groups, cog = g.cOut / g.groups;
  for (let n = 0; n < g.n; n++)
    for (let co = 0; co < g.cOut; co++) {
      const grp = Math.floor(co / cog);
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          const y = ((n * g.cOut + co) * g.oh + oy) * g.ow + ox;
          const dy = into === 'output' ? 0 : a[y]!;
          if (into !== 'output' && dy === 0) continue;
          let sum = 0;
          for (let ci = 0; ci < cig; ci++) {
            const xc = ((n * g.cIn + grp * cig + ci) * g.h) * g.w;
            const wc = ((co * cig + ci) * g.kh) * g.kw;
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.strideH - g.padH + ky * g.dilationH;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.strideW - g.padW + kx * g.dilationW;
                if (ix < 0 || ix >= g.w) continue;
                const x = xc + iy * g.w + ix, w = wc + ky * g.kw + kx;
                if (into === 'output') sum += a[x]! * b[w]!;
                else if (into === 'input') acc[x] += dy * b[w]!;
                else acc[w] += dy * b[x]!;
              }
            }
          }
          if (into === 'output') acc[y] = sum;
        }
    }
}

export class JsBackend implements Backend {
  readonly name: string = 'js';
  readonly hostMemory = true;
  private live = 0;
  private liveBytes = 0;

  supportsDType(d: DType): boolean {
    return d !== 'float16';
  }

  protected make(dtype: DType, data: TypedArray): HostStorage {
    if (!this.supportsDType(dtype)) throw new BackendError(`${this.name}: dtype ${dtype} is not supported`);
    this.live++;
    this.liveBytes += data.byteLength;
    return new HostStorage(this.name, dtype, data);
  }
  protected alloc(size: number, dtype: DType): HostStorage {
    return this.make(dtype, hostArray(dtype, size));
  }
  protected arr(s: Storage): TypedArray {
    if (!(s instanceof HostStorage)) throw new BackendError(`${this.name}: storage from backend '${s.backend}' given`);
    return s.data;
  }

  zeros(size: number, dtype: DType): Storage {
    return this.alloc(size, dtype);
  }
  upload(data: TypedArray, dtype: DType): Storage {
    const out = hostArray(dtype, data.length);
    out.set(data);
    return this.make(dtype, out);
  }
  async read(s: Storage): Promise<TypedArray> {
    return this.readSync(s);
  }
  readSync(s: Storage): TypedArray {
    return this.arr(s).slice();
  }
  free(s: Storage): void {
    this.live--;
    this.liveBytes -= this.arr(s).byteLength;
  }
  memory(): MemoryInfo {
    return { liveStorages: this.live, liveBytes: this.liveBytes, pooledBytes: 0 };
  }
  async sync(): Promise<void> {}

  /** Values of a view in row-major order (a copy when strided). */
  protected gatherView(v: View): TypedArray {
    const src = this.arr(v.storage);
    const offs = viewOffsets(v);
    let n = 1;
    for (const d of v.shape) n *= d;
    if (!offs) return n === src.length ? src : src.subarray(0, n);
    const out = hostArray(v.storage.dtype, n);
    for (let i = 0; i < n; i++) out[i] = src[offs[i]!]!;
    return out;
  }

  unary(op: UnaryOp, x: View, dtype: DType): Storage {
    const a = this.gatherView(x);
    const out = this.alloc(a.length, dtype);
    const f = unaryFns[op];
    const o = out.data;
    for (let i = 0; i < a.length; i++) o[i] = f(a[i]!);
    return out;
  }

  binary(op: BinaryOp, a: View, b: View, shape: readonly number[], dtype: DType): Storage {
    const n = shape.reduce((p, d) => p * d, 1);
    const out = this.alloc(n, dtype);
    const A = this.arr(a.storage), B = this.arr(b.storage);
    const oa = viewOffsets({ shape, strides: a.strides, offset: a.offset });
    const ob = viewOffsets({ shape, strides: b.strides, offset: b.offset });
    const f = (a.storage.dtype === 'int32' && intBinary[op]) || binaryFns[op];
    const o = out.data;
    for (let i = 0; i < n; i++) o[i] = f(A[oa ? oa[i]! : i]!, B[ob ? ob[i]! : i]!);
    return out;
  }

  where(cond: View, a: View, b: View, shape: readonly number[], dtype: DType): Storage {
    const n = shape.reduce((p, d) => p * d, 1);
    const out = this.alloc(n, dtype);
    const C = this.arr(cond.storage), A = this.arr(a.storage), B = this.arr(b.storage);
    const oc = viewOffsets({ shape, strides: cond.strides, offset: cond.offset });
    const oa = viewOffsets({ shape, strides: a.strides, offset: a.offset });
    const ob = viewOffsets({ shape, strides: b.strides, offset: b.offset });
    const o = out.data;
    for (let i = 0; i < n; i++) o[i] = C[oc ? oc[i]! : i] !== 0 ? A[oa ? oa[i]! : i]! : B[ob ? ob[i]! : i]!;
    return out;
  }

  cast(x: View, dtype: DType): Storage {
    const a = this.gatherView(x);
    const out = this.alloc(a.length, dtype);
    if (dtype === 'int32') for (let i = 0; i < a.length; i++) out.data[i] = Math.trunc(a[i]!);
    else out.data.set(a);
    return out;
  }

  copy(src: View, dst: View): void {
    const vals = this.gatherView(src);
    const D = this.arr(dst.storage);
    const od = viewOffsets(dst);
    if (!od) D.set(vals);
    else for (let i = 0; i < vals.length; i++) D[od[i]!] = vals[i]!;
  }

  fill(size: number, value: number, dtype: DType): Storage {
    const out = this.alloc(size, dtype);
    out.data.fill(value);
    return out;
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[]): Storage {
    const { perm, outer, inner } = reductionLayout(x.shape, axes);
    const vals = this.gatherView({ storage: x.storage, ...permuteView(x, perm) });
    const out = this.alloc(outer, x.storage.dtype);
    const o = out.data;
    for (let r = 0; r < outer; r++) {
      const base = r * inner;
      let acc = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
      for (let j = 0; j < inner; j++) {
        const v = vals[base + j]!;
        if (op === 'sum') acc += v;
        else if (op === 'prod') acc *= v;
        else if (op === 'max') acc = v > acc || Number.isNaN(v) ? v : acc;
        else acc = v < acc || Number.isNaN(v) ? v : acc;
      }
      o[r] = acc;
    }
    return out;
  }

  argReduce(op: ArgReduceOp, x: View, axis: number): Storage {
    const { perm, outer, inner } = reductionLayout(x.shape, [axis]);
    const vals = this.gatherView({ storage: x.storage, ...permuteView(x, perm) });
    const out = this.alloc(outer, 'int32');
    for (let r = 0; r < outer; r++) {
      // the first NaN wins (PyTorch, numpy): a NaN must be findable
      let best = 0, bv = vals[r * inner]!;
      for (let j = 1; j < inner && !Number.isNaN(bv); j++) {
        const v = vals[r * inner + j]!;
        if (Number.isNaN(v) || (op === 'argmax' ? v > bv : v < bv)) { bv = v; best = j; }
      }
      out.data[r] = best;
    }
    return out;
  }

  softmax(x: View, rows: number, cols: number, log: boolean): Storage {
    const a = this.gatherView(x);
    const out = this.alloc(rows * cols, x.storage.dtype);
    const o = out.data;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, a[base + j]!);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(a[base + j]! - m);
      const ls = Math.log(s);
      for (let j = 0; j < cols; j++) o[base + j] = log ? a[base + j]! - m - ls : Math.exp(a[base + j]! - m) / s;
    }
    return out;
  }

  matmul(a: MatView, b: MatView, d: MatmulDims, dtype: DType): Storage {
    const A = this.arr(a.storage), B = this.arr(b.storage);
    const out = this.alloc(d.batch * d.m * d.n, dtype);
    const o = out.data;
    const row = new Float64Array(d.n);
    for (let bi = 0; bi < d.batch; bi++) {
      const ab = a.offset + bi * a.batchStride, bb = b.offset + bi * b.batchStride;
      for (let i = 0; i < d.m; i++) {
        row.fill(0);
        for (let p = 0; p < d.k; p++) {
          const av = A[ab + i * a.rowStride + p * a.colStride]!;
          if (av === 0) continue;
          const bp = bb + p * b.rowStride;
          for (let j = 0; j < d.n; j++) row[j] += av * B[bp + j * b.colStride]!;
        }
        o.set(row, (bi * d.m + i) * d.n);
      }
    }
    return out;
  }

  cholesky(a: MatView, batch: number, n: number, dtype: DType): { factor: Storage; info: Storage } {
    const A = this.arr(a.storage);
    const factor = this.alloc(batch * n * n, dtype), info = this.alloc(batch, 'int32');
    const L = new Float64Array(n * n);
    for (let bi = 0; bi < batch; bi++) {
      const ab = a.offset + bi * a.batchStride;
      L.fill(0);
      let failed = 0;
      for (let j = 0; j < n && failed === 0; j++) {
        let d = A[ab + j * a.rowStride + j * a.colStride]!;
        for (let k = 0; k < j; k++) d -= L[j * n + k]! * L[j * n + k]!;
        // NaN passes (d <= 0 is false for it) and propagates
        if (d <= 0) { failed = j + 1; break; }
        const ljj = Math.sqrt(d);
        L[j * n + j] = ljj;
        for (let i = j + 1; i < n; i++) {
          let s = A[ab + i * a.rowStride + j * a.colStride]!;
          for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
          L[i * n + j] = s / ljj;
        }
      }
      if (failed) L.fill(NaN);
      factor.data.set(L, bi * n * n);
      info.data[bi] = failed;
    }
    return { factor, info };
  }

  triangularSolve(t: MatView, b: MatView, d: TriangularSolveDims, lower: boolean, dtype: DType): Storage {
    const T = this.arr(t.storage), B = this.arr(b.storage);
    const { batch, n, m } = d;
    const out = this.alloc(batch * n * m, dtype);
    const x = new Float64Array(n);
    for (let bi = 0; bi < batch; bi++) {
      const tb = t.offset + bi * t.batchStride, bb = b.offset + bi * b.batchStride;
      const tij = (i: number, j: number) => T[tb + i * t.rowStride + j * t.colStride]!;
      for (let c = 0; c < m; c++) {
        // forward substitution for lower, backward for upper
        for (let s = 0; s < n; s++) {
          const i = lower ? s : n - 1 - s;
          let v = B[bb + i * b.rowStride + c * b.colStride]!;
          if (lower) for (let k = 0; k < i; k++) v -= tij(i, k) * x[k]!;
          else for (let k = i + 1; k < n; k++) v -= tij(i, k) * x[k]!;
          x[i] = v / tij(i, i);
        }
        for (let i = 0; i < n; i++) out.data[(bi * n + i) * m + c] = x[i]!;
      }
    }
    return out;
  }

  conv2d(xs: Storage, ws: Storage, g: Conv2dGeometry, bias: Storage | null = null): Storage {
    const X = this.arr(xs), W = this.arr(ws);
    const acc = new Float64Array(g.n * g.cOut * g.oh * g.ow);
    convAccumulate(g, 'output', X, W, acc);
    if (bias) {
      const B = this.arr(bias), ohw = g.oh * g.ow;
      for (let p = 0; p < g.n * g.cOut; p++) for (let j = 0, b = B[p % g.cOut]!; j < ohw; j++) acc[p * ohw + j]! += b;
    }
    return this.upload(acc, xs.dtype);
  }

  conv2dBackwardInput(dys: Storage, ws: Storage, g: Conv2dGeometry): Storage {
    const DY = this.arr(dys), W = this.arr(ws);
    const acc = new Float64Array(g.n * g.cIn * g.h * g.w);
    convAccumulate(g, 'input', DY, W, acc);
    return this.upload(acc, dys.dtype);
  }

  conv2dBackwardFilter(xs: Storage, dys: Storage, g: Conv2dGeometry): Storage {
    const X = this.arr(xs), DY = this.arr(dys);
    const acc = new Float64Array(g.cOut * (g.cIn / g.groups) * g.kh * g.kw);
    convAccumulate(g, 'filter', DY, X, acc);
    return this.upload(acc, xs.dtype);
  }

  conv2dBackwardFilterBias(xs: Storage, dys: Storage, g: Conv2dGeometry): { dw: Storage; db: Storage } {
    const DY = this.arr(dys), ohw = g.oh * g.ow, db = new Float64Array(g.cOut);
    for (let p = 0; p < g.n * g.cOut; p++) for (let j = 0; j < ohw; j++) db[p % g.cOut]! += DY[p * ohw + j]!;
    return { dw: this.conv2dBackwardFilter(xs, dys, g), db: this.upload(db, xs.dtype) };
  }

  maxPool2d(xs: Storage, g: Pool2dGeometry): { values: Storage; indices: Storage } {
    const X = this.arr(xs);
    const vals = this.alloc(g.planes * g.oh * g.ow, xs.dtype);
    const idx = this.alloc(g.planes * g.oh * g.ow, 'int32');
    for (let p = 0; p < g.planes; p++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let best = -Infinity, bi = -1;
          for (let ky = 0; ky < g.kh; ky++) {
            const iy = oy * g.strideH - g.padH + ky;
            if (iy < 0 || iy >= g.h) continue;
            for (let kx = 0; kx < g.kw; kx++) {
              const ix = ox * g.strideW - g.padW + kx;
              if (ix < 0 || ix >= g.w) continue;
              const v = X[(p * g.h + iy) * g.w + ix]!;
              // the first maximum wins, and a NaN beats any number (NaN propagates)
              if (bi < 0 || v > best || (v !== v && best === best)) { best = v; bi = iy * g.w + ix; }
            }
          }
          const o = (p * g.oh + oy) * g.ow + ox;
          vals.data[o] = best;
          idx.data[o] = bi;
        }
    return { values: vals, indices: idx };
  }

  maxPool2dBackward(dys: Storage, idxs: Storage, g: Pool2dGeometry): Storage {
    const DY = this.arr(dys), I = this.arr(idxs);
    const hw = g.h * g.w, ohw = g.oh * g.ow;
    const acc = new Float64Array(g.planes * hw);
    for (let p = 0; p < g.planes; p++)
      for (let o = 0; o < ohw; o++) {
        const i = I[p * ohw + o]!;
        // an all-padding window (index -1) has no input to send its gradient to
        if (i >= 0) acc[p * hw + i] += DY[p * ohw + o]!;
      }
    return this.upload(acc, dys.dtype);
  }

  batchNorm(xs: Storage, gs: Storage, bs: Storage, d: ChannelDims, eps: number): { y: Storage; xhat: Storage; mean: Storage; variance: Storage; rstd: Storage } {
    const X = this.arr(xs), G = this.arr(gs), B = this.arr(bs);
    const dt = xs.dtype, total = d.n * d.c * d.s, m = d.n * d.s;
    const y = this.alloc(total, dt), xhat = this.alloc(total, dt);
    const mean = this.alloc(d.c, dt), variance = this.alloc(d.c, dt), rstd = this.alloc(d.c, dt);
    for (let c = 0; c < d.c; c++) {
      // two passes (mean, then the centred squares): no cancellation for large means
      let sum = 0;
      for (let n = 0; n < d.n; n++) for (let j = 0, o = (n * d.c + c) * d.s; j < d.s; j++) sum += X[o + j]!;
      const mu = sum / m;
      let sq = 0;
      for (let n = 0; n < d.n; n++) for (let j = 0, o = (n * d.c + c) * d.s; j < d.s; j++) sq += (X[o + j]! - mu) ** 2;
      const v = sq / m, r = 1 / Math.sqrt(v + eps), gc = G[c]!, bc = B[c]!;
      for (let n = 0; n < d.n; n++)
        for (let j = 0, o = (n * d.c + c) * d.s; j < d.s; j++) {
          const xh = (X[o + j]! - mu) * r;
          xhat.data[o + j] = xh;
          y.data[o + j] = xh * gc + bc;
        }
      mean.data[c] = mu;
      variance.data[c] = v;
      rstd.data[c] = r;
    }
    return { y, xhat, mean, variance, rstd };
  }

  batchNormBackward(gs: Storage, xs: Storage, ws: Storage, d: ChannelDims): Storage {
    return this.batchNormBackwardSums(gs, xs, ws, d).dx;
  }

  batchNormBackwardSums(gs: Storage, xs: Storage, ws: Storage, d: ChannelDims): { dx: Storage; sumG: Storage; sumGX: Storage } {
    const G = this.arr(gs), XH = this.arr(xs), W = this.arr(ws);
    const out = this.alloc(d.n * d.c * d.s, gs.dtype), m = d.n * d.s;
    const sumG = this.alloc(d.c, gs.dtype), sumGX = this.alloc(d.c, gs.dtype);
    for (let c = 0; c < d.c; c++) {
      let sg = 0, sgx = 0;
      for (let n = 0; n < d.n; n++)
        for (let j = 0, o = (n * d.c + c) * d.s; j < d.s; j++) {
          sg += G[o + j]!;
          sgx += G[o + j]! * XH[o + j]!;
        }
      sumG.data[c] = sg;
      sumGX.data[c] = sgx;
      const mg = sg / m, mgx = sgx / m, w = W[c]!;
      for (let n = 0; n < d.n; n++) for (let j = 0, o = (n * d.c + c) * d.s; j < d.s; j++) out.data[o + j] = w * (G[o + j]! - mg - XH[o + j]! * mgx);
    }
    return { dx: out, sumG, sumGX };
  }

  batchNormReluMaxPool(x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number, h: number, w: number): BatchNormReluMaxPoolResult {
    return composeBatchNormReluMaxPool(this, x, gamma, beta, d, eps, h, w);
  }

  batchNormReluMaxPoolBackward(gp: Storage, pooled: Storage, indices: Storage, xhat: Storage, w: Storage, d: ChannelDims, h: number, wd: number): { dx: Storage; sumG: Storage; sumGX: Storage } {
    return composeBatchNormReluMaxPoolBackward(this, gp, pooled, indices, xhat, w, d, h, wd);
  }

  channelAffine(xs: Storage, ss: Storage, ts: Storage | null, d: ChannelDims): Storage {
    const X = this.arr(xs), S = this.arr(ss), T = ts ? this.arr(ts) : null;
    const out = this.alloc(d.n * d.c * d.s, xs.dtype);
    for (let n = 0; n < d.n; n++)
      for (let c = 0; c < d.c; c++) {
        const sc = S[c]!, sh = T ? T[c]! : 0;
        for (let j = 0, o = (n * d.c + c) * d.s; j < d.s; j++) out.data[o + j] = X[o + j]! * sc + sh;
      }
    return out;
  }

  channelDot(as: Storage, bs: Storage, d: ChannelDims): Storage {
    const A = this.arr(as), B = this.arr(bs);
    const out = this.alloc(d.c, as.dtype);
    for (let c = 0; c < d.c; c++) {
      let acc = 0;
      for (let n = 0; n < d.n; n++) for (let j = 0, o = (n * d.c + c) * d.s; j < d.s; j++) acc += A[o + j]! * B[o + j]!;
      out.data[c] = acc;
    }
    return out;
  }

  gather(x: View, idx: View, axis: number, shape: readonly number[]): Storage {
    const X = this.arr(x.storage);
    const I = this.gatherView({ storage: idx.storage, shape, strides: idx.strides, offset: idx.offset });
    const n = I.length;
    const out = this.alloc(n, x.storage.dtype);
    // Walk the output in row-major order; the source offset replaces the axis coordinate by the index.
    const rank = shape.length;
    const pos = new Array<number>(rank).fill(0);
    for (let i = 0; i < n; i++) {
      let off = x.offset;
      for (let d = 0; d < rank; d++) off += (d === axis ? I[i]! : pos[d]!) * x.strides[d]!;
      out.data[i] = X[off]!;
      for (let d = rank - 1; d >= 0; d--) {
        if (++pos[d]! < shape[d]!) break;
        pos[d] = 0;
      }
    }
    return out;
  }

  scatterAdd(updates: View, idx: View, axis: number, outShape: readonly number[]): Storage {
    const U = this.gatherView(updates);
    const I = this.gatherView({ storage: idx.storage, shape: updates.shape, strides: idx.strides, offset: idx.offset });
    const total = outShape.reduce((p, d) => p * d, 1);
    const acc = new Float64Array(total);
    const rank = updates.shape.length;
    const ostr = new Array<number>(rank);
    for (let d = rank - 1, s = 1; d >= 0; d--) { ostr[d] = s; s *= outShape[d]!; }
    const pos = new Array<number>(rank).fill(0);
    for (let i = 0; i < U.length; i++) {
      let off = 0;
      for (let d = 0; d < rank; d++) off += (d === axis ? I[i]! : pos[d]!) * ostr[d]!;
      acc[off] += U[i]!;
      for (let d = rank - 1; d >= 0; d--) {
        if (++pos[d]! < updates.shape[d]!) break;
        pos[d] = 0;
      }
    }
    return this.upload(acc, updates.storage.dtype);
  }

  random(kind: RandomKind, key: readonly [number, number], counter: number, size: number, dtype: DType): Storage {
    const out = this.alloc(size, kind === 'bits' ? 'int32' : dtype);
    philoxFill(kind, key, counter, out.data);
    return out;
  }
}
