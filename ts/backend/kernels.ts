// The kernel interface: the small, general set of primitives every backend implements.
// Backends know nothing about gradients, modules or meta-learning (DESIGN.md rule 4);
// ts/ops composes these into every op and writes every vjp with public ops.
//
// Conventions shared by all kernels:
// - A `Storage` is an opaque, backend-owned buffer of `size` elements of one dtype.
// - A `View` reads a storage through shape / strides / offset (in elements). Strides may
//   be 0 (broadcast) and views may be non-contiguous; kernels must honour them.
// - Kernels that produce a new tensor return a fresh, contiguous (row-major) Storage.
// - Kernels are synchronous to the caller; a backend may queue the work (WebGPU) as long
//   as `read` observes every earlier kernel.
// - Backends validate nothing about op semantics (ts/ops does), but must never crash
//   the process: any internal failure is thrown as a BackendError.

import type { DType, TypedArray } from '../core/dtype.js';

export interface Storage {
  readonly backend: string;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
}

export interface View {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

// The primitive op lists, declared once. The kernel interface's op types are derived from
// them; the native addon's op codes are the positions in these arrays (the addon exports its
// own lists, from the X-macros in native/elementwise.h, reduce.h and random.h, and the loader
// refuses an addon whose lists differ); the backend tests iterate them.

export const UNARY_OPS = [
  'neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu',
  'sin', 'cos', 'step' /* 1 where x > 0 else 0 */, 'reciprocal', 'square', 'log1p', 'expm1',
  'floor', 'ceil', 'round',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  /* comparisons produce 1 or 0 in the inputs' dtype */
  'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  /* a where b > 0, else 0: relu's gradient (g, x) in one pass */
  'reluMask',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export const REDUCE_OPS = ['sum', 'max', 'min', 'prod'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

export const ARG_REDUCE_OPS = ['argmax', 'argmin'] as const;
export type ArgReduceOp = (typeof ARG_REDUCE_OPS)[number];

/** A batch of matrices read in place: element (b, i, j) is at offset + b*batchStride + i*rowStride + j*colStride. */
export interface MatView {
  readonly storage: Storage;
  readonly offset: number;
  /** 0 broadcasts one matrix over the batch */
  readonly batchStride: number;
  readonly rowStride: number;
  readonly colStride: number;
}

export interface MatmulDims {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

/** NCHW convolution geometry, shared by conv2d and both of its transposes. */
export interface Conv2dGeometry {
  readonly n: number;
  readonly cIn: number;
  readonly h: number;
  readonly w: number;
  readonly cOut: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly groups: number;
}

/** 2-D pooling geometry over an [N*C, H, W] stack of planes. */
export interface Pool2dGeometry {
  readonly planes: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
}

/**
 * A contiguous [N, C, ...] tensor read as [n, c, s] (s = the product of the trailing dims):
 * the layout of the per-channel kernels (batch norm), which reduce over n and s per channel.
 */
export interface ChannelDims {
  readonly n: number;
  readonly c: number;
  readonly s: number;
}

/** Batched triangular solve geometry: T is n×n, B and X are n×m. */
export interface TriangularSolveDims {
  readonly batch: number;
  readonly n: number;
  readonly m: number;
}

export const RANDOM_KINDS = ['uniform', 'normal', 'bits'] as const;
export type RandomKind = (typeof RANDOM_KINDS)[number];

export interface MemoryInfo {
  /** Storages currently allocated and not yet freed. */
  liveStorages: number;
  /** Bytes held by live storages. */
  liveBytes: number;
  /** Bytes held by the backend's pool for reuse (0 when it does not pool). */
  pooledBytes: number;
  /** Anything else the backend wants to report. */
  [key: string]: number;
}

export interface Backend {
  readonly name: string;
  /**
   * Storage is ordinary garbage-collected host memory (js, native): a tensor dropped without
   * dispose() costs only bookkeeping, so tensors need no finalizer (which costs about as
   * much as a small op). Device memory (WebGPU) leaves this unset.
   */
  readonly hostMemory?: boolean;
  /** Whether this backend can hold and compute in a dtype. */
  supportsDType(dtype: DType): boolean;

  // --- storage -----------------------------------------------------------------
  /** A zero-filled storage. */
  zeros(size: number, dtype: DType): Storage;
  /** Copy host values into a new storage (float16 is given as float32 values). */
  upload(data: TypedArray, dtype: DType): Storage;
  /** Read a whole storage back to the host (float16 comes back as Float32Array). */
  read(storage: Storage): Promise<TypedArray>;
  /** Synchronous read, where the backend can do it; undefined otherwise. */
  readSync?(storage: Storage): TypedArray;
  free(storage: Storage): void;
  memory(): MemoryInfo;
  /** Wait for all queued work (no-op on synchronous backends). */
  sync(): Promise<void>;
  /** Release devices and threads so the process can exit. */
  dispose?(): void;

  // --- elementwise ---------------------------------------------------------------
  /** out[i] = op(x[i]); `out` has x.shape, contiguous, dtype `dtype`. */
  unary(op: UnaryOp, x: View, dtype: DType): Storage;
  /** a and b are already broadcast (0 strides) to `shape`; out is contiguous of `shape`. */
  binary(op: BinaryOp, a: View, b: View, shape: readonly number[], dtype: DType): Storage;
  /** out = cond != 0 ? a : b, all three already broadcast to `shape`. */
  where(cond: View, a: View, b: View, shape: readonly number[], dtype: DType): Storage;
  /** Convert values; float to int32 truncates toward zero. */
  cast(x: View, dtype: DType): Storage;
  /** Write src (read through its view) into dst (written through its view); same shapes. */
  copy(src: View, dst: View): void;
  /** A storage of `size` elements all equal to value. */
  fill(size: number, value: number, dtype: DType): Storage;

  // --- reductions ---------------------------------------------------------------
  /** Reduce over `axes` (sorted, unique); the result keeps the other dims in order, contiguous. */
  reduce(op: ReduceOp, x: View, axes: readonly number[]): Storage;
  /** Index (int32) of the max/min along one axis; ties go to the first. */
  argReduce(op: ArgReduceOp, x: View, axis: number): Storage;
  /** Softmax (or log-softmax) along the last axis of a contiguous [rows, cols] view. */
  softmax(x: View, rows: number, cols: number, log: boolean): Storage;

  // --- linear algebra --------------------------------------------------------------
  /** out[b] = a[b] (m×k) · b[b] (k×n), contiguous [batch, m, n]. */
  matmul(a: MatView, b: MatView, dims: MatmulDims, dtype: DType): Storage;
  /**
   * y = conv2d(x, w) (+ bias[c] on every output plane of channel c, when given): x contiguous
   * [n, cIn, h, w], w contiguous [cOut, cIn/groups, kh, kw], bias contiguous [cOut]; y [n, cOut, oh, ow].
   */
  conv2d(x: Storage, w: Storage, g: Conv2dGeometry, bias?: Storage | null): Storage;
  /** dx = conv2d's transpose applied to dy (contiguous [n, cOut, oh, ow]) with w; dx [n, cIn, h, w]. */
  conv2dBackwardInput(dy: Storage, w: Storage, g: Conv2dGeometry): Storage;
  /** dw = the filter gradient from x and dy; dw [cOut, cIn/groups, kh, kw]. */
  conv2dBackwardFilter(x: Storage, dy: Storage, g: Conv2dGeometry): Storage;
  /** conv2dBackwardFilter and, from the same pass over dy, db[c] = Σ dy over n and the plane (a conv bias's gradient, [cOut]). */
  conv2dBackwardFilterBias(x: Storage, dy: Storage, g: Conv2dGeometry): { dw: Storage; db: Storage };

  /**
   * Lower Cholesky factors (L Lᵀ = A) of a batch of n×n matrices, reading only A's lower
   * triangle (diagonal included). `factor` is contiguous [batch, n, n] with zeros above the
   * diagonal; `info` int32 [batch] is 0, or k + 1 when the leading minor of order k + 1 is not
   * positive (LAPACK's convention); that matrix's factor is then all NaN. A NaN input is no
   * failure: it propagates into the factor.
   */
  cholesky(a: MatView, batch: number, n: number, dtype: DType): { factor: Storage; info: Storage };
  /**
   * X = T⁻¹ B for a batch of triangular n×n T (only its lower triangle is read when `lower`,
   * else only its upper; diagonal included) and n×m B; X contiguous [batch, n, m].
   */
  triangularSolve(t: MatView, b: MatView, dims: TriangularSolveDims, lower: boolean, dtype: DType): Storage;

  // --- pooling -----------------------------------------------------------------
  /** Max over each window of contiguous planes; also the int32 argmax (index within the h*w plane); padding never wins. */
  maxPool2d(x: Storage, g: Pool2dGeometry): { values: Storage; indices: Storage };

  /**
   * The transpose of maxPool2d: dx (zeros of [planes, h*w]) += dy [planes, oh*ow] scattered to
   * each window's argmax `indices`; windows are added in order within a plane (deterministic).
   */
  maxPool2dBackward(dy: Storage, indices: Storage, g: Pool2dGeometry): Storage;

  // --- per-channel (batch norm) ---------------------------------------------------------
  /**
   * Batch statistics per channel of contiguous x ([n, c, s]): mean, biased variance,
   * rstd = 1/sqrt(variance + eps) ([c] each), xhat = (x - mean)·rstd and
   * y = xhat·gamma + beta ([n, c, s]; gamma, beta contiguous [c]).
   */
  batchNorm(x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number): { y: Storage; xhat: Storage; mean: Storage; variance: Storage; rstd: Storage };
  /**
   * The batch-norm input gradient: w[c]·(g - mean(g) - xhat·mean(g·xhat)), the means per channel
   * over n and s; g and xhat contiguous [n, c, s], w [c].
   */
  batchNormBackward(g: Storage, xhat: Storage, w: Storage, d: ChannelDims): Storage;
  /**
   * batchNormBackward with the two per-channel sums it computes on the way, which are batch
   * norm's β and γ gradients: sumG[c] = Σ g, sumGX[c] = Σ g·xhat (over n and s, [c] each).
   */
  batchNormBackwardSums(g: Storage, xhat: Storage, w: Storage, d: ChannelDims): { dx: Storage; sumG: Storage; sumGX: Storage };
  /**
   * Batch norm (as batchNorm), then ReLU of the 2×2 stride-2 max-pool of y, over contiguous
   * [n, c, h·w] (s = h·w, h and w ≥ 2): pooled [n, c, ⌊h/2⌋·⌊w/2⌋], each window's argmax in its
   * plane (int32, as maxPool2d's indices), x̂ and the statistics. y itself is not returned.
   */
  batchNormReluMaxPool(x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number, h: number, w: number): { pooled: Storage; indices: Storage; xhat: Storage; mean: Storage; variance: Storage; rstd: Storage };
  /**
   * Its backward from the pooled gradient gp: gy = maxPool2dBackward(reluMask(gp, pooled),
   * indices), then batchNormBackwardSums(gy, xhat, w).
   */
  batchNormReluMaxPoolBackward(gp: Storage, pooled: Storage, indices: Storage, xhat: Storage, w: Storage, d: ChannelDims, h: number, wd: number): { dx: Storage; sumG: Storage; sumGX: Storage };
  /** y = x·scale[c] + shift[c] over contiguous [n, c, s]; shift may be null (0). */
  channelAffine(x: Storage, scale: Storage, shift: Storage | null, d: ChannelDims): Storage;
  /** out[c] = the sum over n and s of a·b (contiguous [n, c, s] each), [c]. */
  channelDot(a: Storage, b: Storage, d: ChannelDims): Storage;

  // --- indexing ----------------------------------------------------------------
  /**
   * Take along an axis: out[..., i, ...] = x[..., idx[..., i, ...], ...].
   * idx (int32) has the output's shape (`shape`), which equals x.shape except along `axis`;
   * idx may be a broadcast view. Indices are already validated to lie in [0, x.shape[axis]).
   */
  gather(x: View, idx: View, axis: number, shape: readonly number[]): Storage;
  /** The transpose of gather: out (zeros of `outShape`) += updates scattered along `axis` by idx. */
  scatterAdd(updates: View, idx: View, axis: number, outShape: readonly number[]): Storage;

  /**
   * Deferred index check, for backends without synchronous reads (WebGPU): record that some
   * int32 index of `idx` lies outside [0, limit); the next read() or sync() then throws an
   * IndexError with `message`. The indexing kernels themselves still clamp, so a bad index
   * never touches memory outside a buffer. (Backends with readSync are checked on the host.)
   */
  checkIndices?(idx: View, limit: number, message: string): void;

  // --- randomness -----------------------------------------------------------------
  /**
   * Counter-based random numbers (Philox4x32-10, see ts/core/philox.ts): element i uses
   * counter (counterLo + floor(i/4), counterHi, 0, 0) ... as specified there, so every
   * backend produces the same bits. 'uniform' is [0,1), 'normal' standard normal,
   * 'bits' raw uint32 reinterpreted as int32.
   */
  random(kind: RandomKind, key: readonly [number, number], counter: number, size: number, dtype: DType): Storage;
}
