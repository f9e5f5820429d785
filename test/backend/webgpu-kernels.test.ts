// Every webgpu kernel against the js reference on seeded random data: strided and broadcast
// views, offsets, sizes that are not multiples of tile sizes, and sizes that force split
// dispatches. Tolerances: float32 kernels within 1e-5 relative (a few ulps of reassociation);
// reductions and GEMMs sum in a different order than the reference's float64, so they get
// 1e-4 relative plus an absolute term scaled by the length of the sum.

import test from 'tape';
import * as mg from '../../ts/index.js';
import type { Backend, Storage, View } from '../../ts/index.js';
import { ARG_REDUCE_OPS, BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../../ts/backend/kernels.js';
import { close, contiguous, rand, randint, randn, view, webgpuOrSkip } from '../helpers/webgpu.js';

type Data = Float32Array | Int32Array;

/** Upload the same data to both backends. */
function pair(gpu: Backend, data: Data, dtype: mg.DType = data instanceof Int32Array ? 'int32' : 'float32'): [Storage, Storage] {
  return [mg.getBackend('js').upload(data, dtype), gpu.upload(data, dtype)];
}

/** Run a kernel on both backends, read both results. */
async function both(gpu: Backend, run: (b: Backend, pick: <T>(p: [T, T]) => T) => Storage): Promise<[Data, Data]> {
  const js = mg.getBackend('js');
  const want = await js.read(run(js, (p) => p[0]));
  const got = await gpu.read(run(gpu, (p) => p[1]));
  return [got as Data, want as Data];
}

const UNARY: readonly mg.UnaryOp[] = UNARY_OPS;
const POSITIVE = new Set<mg.UnaryOp>(['log', 'sqrt', 'reciprocal', 'log1p']);
const BINARY: readonly mg.BinaryOp[] = BINARY_OPS;

test('webgpu kernels: unary ops, contiguous, strided and offset views', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  await bothVariants(t, async () => {
    const n = 6 * 37;
    const mixed = randn(n + 3, 1, 4);
    // Values that probe edge cases: exact halves for round, tiny values for expm1/log1p, big for tanh.
    mixed.set([0.5, 1.5, 2.5, -0.5, -2.5, 1e-6, -1e-7, 30, -30, 0, 3e-3, -3e-3]);
    const positive = mixed.map((v) => Math.abs(v) + 1e-3);
    for (const op of UNARY) {
      const data = POSITIVE.has(op) ? positive : mixed;
      const p = pair(gpu, data);
      const views: [string, (s: Storage) => View][] = [
        ['contiguous', (s) => view(s, [n])],
        ['transposed', (s) => view(s, [37, 6], [1, 37])],
        ['offset 3', (s) => view(s, [6, 37], [37, 1], 3)],
      ];
      for (const [name, v] of views) {
        const [got, want] = await both(gpu, (b, pick) => b.unary(op, v(pick(p)), 'float32'));
        close(t, got, want, `${op} ${name}`, 2e-6 * 8, 1e-6);
      }
    }
    const ints = randint(101, -50, 50, 2);
    const pi = pair(gpu, ints);
    for (const op of ['neg', 'abs', 'sign', 'square', 'relu', 'step'] as mg.UnaryOp[]) {
      const [got, want] = await both(gpu, (b, pick) => b.unary(op, view(pick(pi), [101]), 'int32'));
      t.deepEqual(Array.from(got), Array.from(want), `int32 ${op}`);
    }
  });
});

test('webgpu kernels: binary ops with broadcasting, offsets and int32 arithmetic', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  await bothVariants(t, async () => {
    const shape = [5, 6, 7];
    const a = randn(5 * 7 + 1, 3, 3), b = randn(6 * 7, 4, 3);
    a[4] = b[4]!; a[5] = NaN; // ties and NaN for comparisons and maximum/minimum
    const pa = pair(gpu, a), pb = pair(gpu, b);
    const av = (s: Storage) => view(s, shape, [7, 0, 1], 1); // [5,1,7] broadcast over dim 1, offset 1
    const bv = (s: Storage) => view(s, shape, [0, 7, 1]); // [1,6,7] broadcast over dim 0
    for (const op of BINARY) {
      const [got, want] = await both(gpu, (bk, pick) => bk.binary(op, av(pick(pa)), bv(pick(pb)), shape, 'float32'));
      close(t, got, want, `${op} broadcast`, op === 'pow' ? 1e-4 : 1e-6, 1e-6);
    }
    // pow with negative bases and integer exponents, and contiguous vec4 path.
    const base = new Float32Array([-2, -2, -1.5, 0, 0, 2, 9, -3, 1, 4, 0.5, -8]);
    const expo = new Float32Array([3, 2, 2, 2, -1, 0.5, 0.5, 0, NaN, -2, 10, 1 / 3]);
    const [pg, pw] = await both(gpu, (bk, pick) => bk.binary('pow', view(pick(pair(gpu, base)), [12]), view(pick(pair(gpu, expo)), [12]), [12], 'float32'));
    close(t, pg, pw, 'pow special cases', 1e-5, 1e-6);
    // comparisons into int32 output
    const [cg, cw] = await both(gpu, (bk, pick) => bk.binary('lt', av(pick(pa)), bv(pick(pb)), shape, 'int32'));
    t.deepEqual(Array.from(cg), Array.from(cw), 'lt into int32');
    const ia = randint(64, -1000, 1000, 5), ib = randint(64, -20, 20, 6);
    ib[0] = 0; ia[1] = -2147483648; ib[1] = -1; ia[2] = 2147483647; ib[2] = 2;
    const pia = pair(gpu, ia), pib = pair(gpu, ib);
    for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'ge'] as mg.BinaryOp[]) {
      const [got, want] = await both(gpu, (bk, pick) => bk.binary(op, view(pick(pia), [64]), view(pick(pib), [64]), [64], 'int32'));
      t.deepEqual(Array.from(got), Array.from(want), `int32 ${op} (wrapping, div by 0 gives 0)`);
    }
  });
});

test('webgpu kernels: where, cast, copy, fill, zeros', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  await bothVariants(t, async () => {
    const shape = [4, 9];
    const c = randint(9, 0, 2, 7), a = randn(36, 8, 5), b = randn(4, 9, 5);
    const pc = pair(gpu, c), pa = pair(gpu, a), pb = pair(gpu, b);
    const [wg, ww] = await both(gpu, (bk, pick) =>
      bk.where(view(pick(pc), shape, [0, 1]), view(pick(pa), shape, [1, 4]), view(pick(pb), shape, [1, 0]), shape, 'float32'));
    close(t, wg, ww, 'where with broadcast condition and transposed a', 0, 0);
    const [cg, cw] = await both(gpu, (bk, pick) => bk.cast(view(pick(pa), [36]), 'int32'));
    t.deepEqual(Array.from(cg), Array.from(cw), 'cast float32 -> int32 truncates toward zero');
    const [ig, iw] = await both(gpu, (bk, pick) => bk.cast(view(pick(pc), [3, 3], [1, 3]), 'float32'));
    t.deepEqual(Array.from(ig), Array.from(iw), 'cast int32 -> float32 of a strided view');
    // copy a transposed view into the middle of an existing storage, through a strided dst view
    const [pg, pw] = await both(gpu, (bk, pick) => {
      const dst = bk.fill(60, -1, 'float32');
      bk.copy(view(pick(pa), [9, 4], [1, 9]), view(dst, [9, 4], [6, 1], 5));
      return dst;
    });
    close(t, pg, pw, 'copy strided -> strided into an existing storage', 0, 0);
    // Overlapping source and destination in one storage: the source is read as it was.
    const same = gpu.upload(a, 'float32');
    gpu.copy(view(same, [30], [1], 0), view(same, [30], [1], 6));
    const snap = Float32Array.from(a);
    snap.set(a.subarray(0, 30), 6);
    close(t, await gpu.read(same), snap, 'copy within one storage (overlapping) reads the source before writing', 0, 0);
    for (const [v, d] of [[2.5, 'float32'], [-7, 'int32'], [0, 'float32'], [-0, 'float32']] as const) {
      const [fg, fw] = await both(gpu, (bk) => bk.fill(13, v, d));
      t.deepEqual(Array.from(fg), Array.from(fw), `fill ${v} ${d}`);
    }
    const [zg, zw] = await both(gpu, (bk) => bk.zeros(1001, 'int32'));
    t.deepEqual(Array.from(zg), Array.from(zw), 'zeros');
  });
});

/** Run a test body with the GPU-style kernel variants, then the software-adapter ones. */
async function bothVariants(t: test.Test, body: (variant: string) => Promise<void>): Promise<void> {
  const saved = process.env['METAGRAD_WEBGPU_CPU'];
  try {
    for (const v of ['0', '1']) {
      process.env['METAGRAD_WEBGPU_CPU'] = v;
      t.comment(`kernel variants for ${v === '1' ? 'software' : 'hardware'} adapters`);
      await body(v === '1' ? 'cpu variants' : 'gpu variants');
    }
  } finally {
    if (saved === undefined) delete process.env['METAGRAD_WEBGPU_CPU'];
    else process.env['METAGRAD_WEBGPU_CPU'] = saved;
  }
}

test('webgpu kernels: reductions over any axes, chunked long rows, argmax/argmin', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  await bothVariants(t, async () => {
    const shape = [7, 33, 19];
    const x = randn(7 * 33 * 19, 10, 2);
    const px = pair(gpu, x);
    const axesList = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];
    for (const op of REDUCE_OPS) {
      for (const axes of axesList) {
        const [got, want] = await both(gpu, (b, pick) => b.reduce(op, view(pick(px), shape), axes));
        close(t, got, want, `${op} over [${axes}]`, op === 'prod' ? 1e-4 : 1e-5, 1e-5);
      }
      // a permuted (non-contiguous) input
      const [got, want] = await both(gpu, (b, pick) => b.reduce(op, view(pick(px), [19, 7, 33], [1, 33 * 19, 19]), [0, 2]));
      close(t, got, want, `${op} over a permuted view`, op === 'prod' ? 1e-4 : 1e-5, 1e-5);
    }
    const long = randn(3 * 300001, 11);
    const pl = pair(gpu, long);
    const [lg, lw] = await both(gpu, (b, pick) => b.reduce('sum', view(pick(pl), [3, 300001]), [1]));
    close(t, lg, lw, 'sum of long rows (chunked, two passes)', 1e-4, 1e-3);
    const [mg2, mw] = await both(gpu, (b, pick) => b.reduce('max', view(pick(pl), [900003]), [0]));
    close(t, mg2, mw, 'max of 900003 values', 0, 0);
    // Contiguous, 4-aligned rows (vec4 loads on software adapters), and the same data unaligned.
    const al = randn(4 * 65536 + 1, 12);
    const pa = pair(gpu, al);
    const [vg, vw] = await both(gpu, (b, pick) => b.reduce('sum', view(pick(pa), [4, 65536]), [1]));
    close(t, vg, vw, 'sum of aligned long rows', 1e-4, 1e-3);
    const [ug, uw] = await both(gpu, (b, pick) => b.reduce('sum', view(pick(pa), [4, 65536], undefined, 1), [1]));
    close(t, ug, uw, 'sum of unaligned long rows (offset 1)', 1e-4, 1e-3);
    const [xg, xw] = await both(gpu, (b, pick) => b.reduce('max', view(pick(pa), [262144]), [0]));
    close(t, xg, xw, 'max of 262144 aligned values', 0, 0);
    const [ng0, nw0] = await both(gpu, (b, pick) => b.reduce('min', view(pick(pa), [128, 2048]), [1]));
    close(t, ng0, nw0, 'min of 128 aligned rows', 0, 0);
    // A batch-norm's statistics: [N, C, H, W] over N, H, W (two reduced dims after merging H·W),
    // long enough to be chunked, with chunk starts in the middle of an H·W plane.
    const bn = randn(12 * 8 * 31 * 29, 13);
    const pb = pair(gpu, bn);
    for (const op of ['sum', 'max'] as const) {
      const [bg, bw] = await both(gpu, (b, pick) => b.reduce(op, view(pick(pb), [12, 8, 31, 29]), [0, 2, 3]));
      close(t, bg, bw, `${op} over N, H, W of [12, 8, 31, 29]`, op === 'sum' ? 1e-4 : 0, op === 'sum' ? 1e-4 : 0);
    }
    const [tg, tw] = await both(gpu, (b, pick) => b.reduce('sum', view(pick(pl), [300001, 3]), [0]));
    close(t, tg, tw, 'sum over axis 0 of [300001, 3]', 1e-4, 1e-3);
    const [rg, rw] = await both(gpu, (b, pick) => b.reduce('sum', view(pick(pl), [70001, 12]), [1]));
    close(t, rg, rw, 'sum of 70001 rows (thread per output)', 1e-5, 1e-5);
    const pr = pair(gpu, randn(70001 * 40, 14));
    const [wg, ww] = await both(gpu, (b, pick) => b.reduce('max', view(pick(pr), [70001, 40]), [1]));
    close(t, wg, ww, 'max of 70001 rows of 40 (2-D grid of workgroups)', 0, 0);
    const ints = randint(5 * 77, -100, 100, 12);
    const pi = pair(gpu, ints);
    for (const op of ['sum', 'max', 'min'] as mg.ReduceOp[]) {
      const [got, want] = await both(gpu, (b, pick) => b.reduce(op, view(pick(pi), [5, 77]), [1]));
      t.deepEqual(Array.from(got), Array.from(want), `int32 ${op}`);
    }
    const nanx = new Float32Array([1, NaN, 3, 2, 5, 5, 0, 0]);
    const pn = pair(gpu, nanx);
    const [ng, nw] = await both(gpu, (b, pick) => b.reduce('max', view(pick(pn), [2, 4]), [1]));
    close(t, ng, nw, 'max propagates NaN', 0, 0);
    // argmax/argmin: ties go to the first, short and long rows, strided
    const ties = randint(9 * 200, 0, 5, 13);
    const pt = pair(gpu, Float32Array.from(ties));
    for (const op of ARG_REDUCE_OPS) {
      for (const [shapeA, axis] of [[[9, 200], 1], [[9, 200], 0], [[60, 30], 1]] as [number[], number][]) {
        const [got, want] = await both(gpu, (b, pick) => b.argReduce(op, view(pick(pt), shapeA), axis));
        t.deepEqual(Array.from(got), Array.from(want), `${op} [${shapeA}] axis ${axis}, ties to the first`);
      }
    }
    const [ag, aw] = await both(gpu, (b, pick) => b.argReduce('argmax', view(pick(pn), [2, 4]), 1));
    t.deepEqual(Array.from(ag), Array.from(aw), 'argmax with NaN as the reference');
  });
});

test('webgpu kernels: softmax and log-softmax', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  await bothVariants(t, async () => {
    for (const [rows, cols] of [[13, 5], [7, 1000], [1, 1], [300, 64], [5000, 100]]) {
      const x = randn(rows * cols + 2, 20 + cols, 8);
      const px = pair(gpu, x);
      for (const log of [false, true]) {
        const [got, want] = await both(gpu, (b, pick) => b.softmax(view(pick(px), [rows, cols], [cols, 1], 2), rows, cols, log));
        close(t, got, want, `${log ? 'logSoftmax' : 'softmax'} [${rows}, ${cols}]`, 1e-5, 1e-6);
      }
    }
  });
});

function matmulCase(gpu: Backend, name: string, batch: number, m: number, n: number, k: number,
  layout: { aT?: boolean; bT?: boolean; aBroadcast?: boolean; offset?: number } = {}) {
  return async (t: test.Test) => {
    const off = layout.offset ?? 0;
    const a = randn((layout.aBroadcast ? 1 : batch) * m * k + off, 30 + m, 1), b = randn(batch * k * n + off, 31 + n, 1);
    const pa = pair(gpu, a), pb = pair(gpu, b);
    const aView = (s: Storage): mg.MatView => ({
      storage: s, offset: off, batchStride: layout.aBroadcast ? 0 : m * k,
      rowStride: layout.aT ? 1 : k, colStride: layout.aT ? m : 1,
    });
    const bView = (s: Storage): mg.MatView => ({
      storage: s, offset: off, batchStride: k * n, rowStride: layout.bT ? 1 : n, colStride: layout.bT ? k : 1,
    });
    const [got, want] = await both(gpu, (bk, pick) => bk.matmul(aView(pick(pa)), bView(pick(pb)), { batch, m, n, k }, 'float32'));
    close(t, got, want, `matmul ${name} [${batch}] ${m}x${k} @ ${k}x${n}`, 1e-4, 1e-5 * Math.sqrt(k));
  };
}

test('webgpu kernels: batched matmul, odd sizes, transposed operands in place, split-K, broadcast batch', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  await bothVariants(t, async () => {
    await matmulCase(gpu, 'scalar', 1, 1, 1, 1)(t);
    await matmulCase(gpu, 'odd', 1, 3, 5, 7)(t);
    await matmulCase(gpu, 'edges', 2, 65, 33, 129)(t);
    await matmulCase(gpu, 'aligned vec4', 1, 128, 64, 256)(t);
    await matmulCase(gpu, 'A transposed', 3, 67, 45, 80, { aT: true })(t);
    await matmulCase(gpu, 'B transposed', 3, 67, 45, 80, { bT: true })(t);
    await matmulCase(gpu, 'both transposed, aligned', 2, 64, 128, 32, { aT: true, bT: true })(t);
    await matmulCase(gpu, 'offset (unaligned)', 2, 20, 36, 44, { offset: 3 })(t);
    await matmulCase(gpu, 'broadcast A over the batch', 4, 17, 8, 12, { aBroadcast: true })(t);
    await matmulCase(gpu, 'split-K (long k, few tiles)', 1, 8, 12, 5000)(t);
    await matmulCase(gpu, 'matrix-vector', 1, 300, 1, 200)(t);
    await matmulCase(gpu, 'batch beyond the grid limit (z split)', 70000, 1, 2, 3)(t);
  });
});

const CONVS: [string, mg.Conv2dGeometry][] = [];
function geom(name: string, n: number, cIn: number, h: number, w: number, cOut: number, kh: number, kw: number,
  s: [number, number], p: [number, number], d: [number, number], groups: number): void {
  const oh = Math.floor((h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const ow = Math.floor((w + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  CONVS.push([name, { n, cIn, h, w, cOut, kh, kw, oh, ow, strideH: s[0], strideW: s[1], padH: p[0], padW: p[1], dilationH: d[0], dilationW: d[1], groups }]);
}
geom('3x3 pad 1', 2, 3, 9, 11, 5, 3, 3, [1, 1], [1, 1], [1, 1], 1);
geom('stride 2, no pad', 3, 4, 13, 10, 6, 3, 2, [2, 2], [0, 0], [1, 1], 1);
geom('stride (2,1), pad (0,2), dilation 2', 2, 3, 12, 9, 4, 3, 3, [2, 1], [0, 2], [2, 2], 1);
geom('groups 2', 2, 4, 8, 8, 6, 3, 3, [1, 1], [1, 1], [1, 1], 2);
geom('depthwise', 1, 6, 7, 7, 6, 3, 3, [1, 1], [1, 1], [1, 1], 6);
geom('Conv-4 block (split-K filter grad)', 8, 16, 14, 14, 32, 3, 3, [1, 1], [1, 1], [1, 1], 1);

test('webgpu kernels: conv2d and both transposes (implicit GEMM; unfolding + GEMM on software adapters)', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  await bothVariants(t, async () => {
    for (const [name, g] of CONVS) {
      const cig = g.cIn / g.groups;
      const x = randn(g.n * g.cIn * g.h * g.w, 40, 1), w = randn(g.cOut * cig * g.kh * g.kw, 41, 1);
      const dy = randn(g.n * g.cOut * g.oh * g.ow, 42, 1);
      const px = pair(gpu, x), pw = pair(gpu, w), pdy = pair(gpu, dy);
      const tol = (k: number) => 1e-5 * Math.sqrt(k) + 1e-6;
      const [yg, yw] = await both(gpu, (b, pick) => b.conv2d(pick(px), pick(pw), g));
      close(t, yg, yw, `conv2d ${name}`, 1e-4, tol(cig * g.kh * g.kw));
      const [dxg, dxw] = await both(gpu, (b, pick) => b.conv2dBackwardInput(pick(pdy), pick(pw), g));
      close(t, dxg, dxw, `conv2dBackwardInput ${name}`, 1e-4, tol(g.cOut * g.kh * g.kw));
      const [dwg, dww] = await both(gpu, (b, pick) => b.conv2dBackwardFilter(pick(px), pick(pdy), g));
      close(t, dwg, dww, `conv2dBackwardFilter ${name}`, 1e-4, tol(g.n * g.oh * g.ow));
    }
  });
});

test('webgpu kernels: im2col conv2d and both transposes in image chunks when the unfolded buffer is capped', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  const saved = { cpu: process.env['METAGRAD_WEBGPU_CPU'], limit: process.env['METAGRAD_IM2COL_LIMIT'] };
  const g = CONVS.find(([name]) => name.startsWith('stride (2,1)'))![1];
  const perImage = g.cIn * g.kh * g.kw * g.oh * g.ow;
  const tol = (k: number) => 1e-5 * Math.sqrt(k) + 1e-6;
  try {
    process.env['METAGRAD_WEBGPU_CPU'] = '1';
    process.env['METAGRAD_IM2COL_LIMIT'] = String(perImage); // one image per chunk
    const px = pair(gpu, randn(g.n * g.cIn * g.h * g.w, 50, 1)), pw = pair(gpu, randn(g.cOut * g.cIn * g.kh * g.kw, 51, 1));
    const pdy = pair(gpu, randn(g.n * g.cOut * g.oh * g.ow, 52, 1));
    const dispatches = () => gpu.memory().dispatches ?? 0;
    let before = dispatches();
    const [yg, yw] = await both(gpu, (b, pick) => b.conv2d(pick(px), pick(pw), g));
    t.equal(dispatches() - before, 2 * g.n, 'conv2d: an im2col and a GEMM dispatch per image');
    close(t, yg, yw, 'conv2d over one-image chunks', 1e-4, tol(perImage / (g.oh * g.ow)));
    before = dispatches();
    const [dxg, dxw] = await both(gpu, (b, pick) => b.conv2dBackwardInput(pick(pdy), pick(pw), g));
    t.equal(dispatches() - before, 2 * g.n, 'conv2dBackwardInput: a GEMM and a col2im dispatch per image');
    close(t, dxg, dxw, 'conv2dBackwardInput over one-image chunks', 1e-4, tol(g.cOut * g.kh * g.kw));
    const [dwg, dww] = await both(gpu, (b, pick) => b.conv2dBackwardFilter(pick(px), pick(pdy), g));
    close(t, dwg, dww, 'conv2dBackwardFilter over one-image chunks (partials summed)', 1e-4, tol(g.n * g.oh * g.ow));
  } finally {
    for (const [k, v] of [['METAGRAD_WEBGPU_CPU', saved.cpu], ['METAGRAD_IM2COL_LIMIT', saved.limit]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('webgpu kernels: maxPool2d values and indices (ties, NaN)', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  const cases: mg.Pool2dGeometry[] = [
    { planes: 6, h: 8, w: 8, kh: 2, kw: 2, oh: 4, ow: 4, strideH: 2, strideW: 2, padH: 0, padW: 0 },
    { planes: 5, h: 9, w: 7, kh: 3, kw: 3, oh: 5, ow: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
    { planes: 3, h: 5, w: 5, kh: 3, kw: 2, oh: 3, ow: 4, strideH: 1, strideW: 1, padH: 0, padW: 0 },
  ];
  for (const g of cases) {
    const x = Float32Array.from(randint(g.planes * g.h * g.w, 0, 6, 50)); // many ties
    for (let i = 3; i < x.length; i += 7) x[i] = NaN; // NaN beats any number, the first NaN wins
    const px = pair(gpu, x);
    const js = mg.getBackend('js');
    const rj = js.maxPool2d(px[0], g), rg = gpu.maxPool2d(px[1], g);
    t.deepEqual(Array.from(await gpu.read(rg.values)), Array.from(await js.read(rj.values)), `maxPool2d values ${g.kh}x${g.kw}/${g.strideH}`);
    t.deepEqual(Array.from(await gpu.read(rg.indices)), Array.from(await js.read(rj.indices)), `maxPool2d indices (ties to first) ${g.kh}x${g.kw}/${g.strideH}`);
  }
});

test('webgpu kernels: gather and scatterAdd along axes, broadcast indices, repeated indices', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  const x = randn(6 * 9, 60, 3);
  const px = pair(gpu, x);
  // axis 1: idx [6, 4] in [0, 9); axis 0: idx broadcast [1, 9] -> [5, 9]
  const i1 = randint(24, 0, 9, 61), i0 = randint(9, 0, 6, 62);
  const pi1 = pair(gpu, i1), pi0 = pair(gpu, i0);
  const [g1, w1] = await both(gpu, (b, pick) => b.gather(view(pick(px), [6, 9]), view(pick(pi1), [6, 4]), 1, [6, 4]));
  t.deepEqual(Array.from(g1), Array.from(w1), 'gather axis 1');
  const [g0, w0] = await both(gpu, (b, pick) => b.gather(view(pick(px), [6, 9]), view(pick(pi0), [5, 9], [0, 1]), 0, [5, 9]));
  t.deepEqual(Array.from(g0), Array.from(w0), 'gather axis 0 with broadcast indices');
  const it = pair(gpu, randint(24, 0, 9, 67)); // a transposed [4, 6] view of 24 indices in [0, 9)
  const [gt, wt] = await both(gpu, (b, pick) => b.gather(view(pick(px), [9, 6], [1, 9]), view(pick(it), [4, 6], [1, 4]), 0, [4, 6]));
  t.deepEqual(Array.from(gt), Array.from(wt), 'gather from a transposed view');
  const u = randn(6 * 40, 63, 2), iu = randint(6 * 40, 0, 9, 64); // many repeats
  const pu = pair(gpu, u), piu = pair(gpu, iu);
  const [s1, sw1] = await both(gpu, (b, pick) => b.scatterAdd(view(pick(pu), [6, 40]), view(pick(piu), [6, 40]), 1, [6, 9]));
  close(t, s1, sw1, 'scatterAdd float32 axis 1, repeated indices (CAS adds)', 1e-5, 1e-5);
  const iu0 = randint(40 * 6, 0, 3, 65);
  const [s0, sw0] = await both(gpu, (b, pick) => b.scatterAdd(view(pick(pu), [40, 6]), view(pick(pair(gpu, iu0)), [40, 6]), 0, [3, 6]));
  close(t, s0, sw0, 'scatterAdd float32 axis 0', 1e-5, 1e-5);
  const ui = randint(6 * 40, -9, 9, 66);
  const [si, swi] = await both(gpu, (b, pick) => b.scatterAdd(view(pick(pair(gpu, ui)), [6, 40]), view(pick(piu), [6, 40]), 1, [6, 9]));
  t.deepEqual(Array.from(si), Array.from(swi), 'scatterAdd int32 (atomicAdd)');
  const [sb, swb] = await both(gpu, (b, pick) => b.scatterAdd(view(pick(pu), [6, 40]), view(pick(pi0), [6, 40], [0, 0]), 1, [6, 9]));
  close(t, sb, swb, 'scatterAdd with fully broadcast indices', 1e-5, 1e-5);
});

test('webgpu kernels: Philox random is bit-identical (uniform, bits) and normal to float tolerance', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  const key: [number, number] = [0xdeadbeef, 12345];
  for (const counter of [0, 7, 2 ** 32 - 3, 2 ** 40 + 5]) {
    for (const kind of ['uniform', 'bits'] as mg.RandomKind[]) {
      const [got, want] = await both(gpu, (b) => b.random(kind, key, counter, 1027, 'float32'));
      t.deepEqual(Array.from(got), Array.from(want), `${kind} bits identical at counter ${counter}`);
    }
    const [ng, nw] = await both(gpu, (b) => b.random('normal', key, counter, 1027, 'float32'));
    close(t, ng, nw, `normal at counter ${counter}`, 1e-5, 2e-6);
  }
  const r = new mg.Rng(7);
  const a = await r.uniform([5000], 0, 1, { backend: 'webgpu' }).data();
  const b = new mg.Rng(7).uniform([5000], 0, 1, { backend: 'js' }).dataSync();
  t.deepEqual(Array.from(a), Array.from(b), 'Rng.uniform agrees across backends');
});

test('webgpu kernels: dispatches beyond maxComputeWorkgroupsPerDimension are split', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  const n = 65535 * 256 + 4097; // one more row of workgroups than one grid dimension holds
  const saved = process.env['METAGRAD_WEBGPU_CPU'];
  process.env['METAGRAD_WEBGPU_CPU'] = '0'; // a workgroup per 256 elements, as on hardware
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (i % 1000) * 1e-3;
  const s = gpu.upload(x, 'float32');
  const y = gpu.unary('square', view(s, [n]), 'float32');
  const z = gpu.binary('add', view(y, [n - 1], [1], 1), view(s, [n - 1], [0], 5), [n - 1], 'float32');
  const out = await gpu.read(z);
  if (saved === undefined) delete process.env['METAGRAD_WEBGPU_CPU'];
  else process.env['METAGRAD_WEBGPU_CPU'] = saved;
  let bad = 0;
  for (let i = 0; i < n - 1; i++) {
    const v = x[i + 1]!;
    const want = Math.fround(Math.fround(v * v) + x[5]!);
    if (out[i] !== want) bad++;
  }
  t.equal(bad, 0, `square + broadcast add over ${n} elements (2-D grid)`);
  for (const st of [s, y, z]) gpu.free(st);
});

test('webgpu kernels: float16 (shader-f16) elementwise, matmul, conv, reductions at half precision', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  if (!gpu.supportsDType('float16')) {
    t.skip('adapter has no shader-f16');
    return;
  }
  await bothVariants(t, async () => {
    const js = mg.getBackend('js');
    const m = 37, k = 70, n = 45;
    const a = randn(m * k, 70, 1), b = randn(k * n, 71, 1);
    // Reference: float32 math on the float16-rounded inputs.
    const a16 = await gpu.read(gpu.upload(a, 'float16')), b16 = await gpu.read(gpu.upload(b, 'float16'));
    let maxRound = 0;
    for (let i = 0; i < a.length; i++) maxRound = Math.max(maxRound, Math.abs(a16[i]! - a[i]!) / Math.abs(a[i]!));
    t.ok(maxRound <= 2 ** -11, `float16 upload rounds to nearest (max relative error ${maxRound})`);
    const ga = gpu.upload(a, 'float16'), gb = gpu.upload(b, 'float16');
    const ja = js.upload(a16, 'float32'), jb = js.upload(b16, 'float32');
    const mv = (s: Storage, r: number, c: number): mg.MatView => ({ storage: s, offset: 0, batchStride: 0, rowStride: c, colStride: 1 });
    const got = await gpu.read(gpu.matmul(mv(ga, m, k), mv(gb, k, n), { batch: 1, m, n, k }, 'float16'));
    const want = await js.read(js.matmul(mv(ja, m, k), mv(jb, k, n), { batch: 1, m, n, k }, 'float32'));
    close(t, got, want, 'float16 matmul (f32 accumulate, f16 store)', 2 ** -10, 2e-3 * Math.sqrt(k));
    const mt = (s: Storage): mg.MatView => ({ storage: s, offset: 0, batchStride: 0, rowStride: 1, colStride: m });
    const gotT = await gpu.read(gpu.matmul(mt(ga), mv(gb, k, n), { batch: 1, m: k, n, k: m }, 'float16'));
    const wantT = await js.read(js.matmul(mt(ja), mv(jb, k, n), { batch: 1, m: k, n, k: m }, 'float32'));
    close(t, gotT, wantT, 'float16 matmul with A transposed in place', 2 ** -10, 2e-3 * Math.sqrt(m));
    for (const op of ['exp', 'tanh', 'sigmoid', 'neg', 'relu'] as mg.UnaryOp[]) {
      const g = await gpu.read(gpu.unary(op, view(ga, [m * k]), 'float16'));
      const w = await js.read(js.unary(op, view(ja, [m * k]), 'float32'));
      close(t, g, w, `float16 ${op}`, 2 ** -10, 1e-4);
    }
    for (const op of ['add', 'mul', 'maximum', 'div'] as mg.BinaryOp[]) {
      const g = await gpu.read(gpu.binary(op, view(ga, [45, 45], [45, 1]), view(gb, [45, 45], [1, 45]), [45, 45], 'float16'));
      const w = await js.read(js.binary(op, view(ja, [45, 45], [45, 1]), view(jb, [45, 45], [1, 45]), [45, 45], 'float32'));
      close(t, g, w, `float16 ${op} (one operand transposed)`, 2 ** -10, 1e-4);
    }
    const rs = await gpu.read(gpu.reduce('sum', view(ga, [m, k]), [1]));
    const rw = await js.read(js.reduce('sum', view(ja, [m, k]), [1]));
    close(t, rs, rw, 'float16 sum (f32 accumulate)', 2 ** -10, 2e-3);
    const sm = await gpu.read(gpu.softmax(view(ga, [m, k]), m, k, false));
    const sw = await js.read(js.softmax(view(ja, [m, k]), m, k, false));
    close(t, sm, sw, 'float16 softmax', 2 ** -9, 1e-4);
    // conv2d and both gradients at half precision (software adapters: im2col / col2im + GEMM).
    const g = CONVS[0]![1];
    const cx = randn(g.n * g.cIn * g.h * g.w, 72, 1), cw = randn(g.cOut * g.cIn * g.kh * g.kw, 73, 1);
    const cdy = randn(g.n * g.cOut * g.oh * g.ow, 74, 1);
    const half = async (d: Float32Array): Promise<[Storage, Storage]> => [gpu.upload(d, 'float16'), js.upload(await gpu.read(gpu.upload(d, 'float16')), 'float32')];
    const [hx, rx] = await half(cx), [hw, rw16] = await half(cw), [hdy, rdy] = await half(cdy);
    const kk = g.cIn * g.kh * g.kw;
    close(t, await gpu.read(gpu.conv2d(hx, hw, g)), await js.read(js.conv2d(rx, rw16, g)), 'float16 conv2d', 2 ** -9, 2e-3 * Math.sqrt(kk));
    close(t, await gpu.read(gpu.conv2dBackwardInput(hdy, hw, g)), await js.read(js.conv2dBackwardInput(rdy, rw16, g)),
      'float16 conv2dBackwardInput', 2 ** -9, 2e-3 * Math.sqrt(g.cOut * g.kh * g.kw));
    close(t, await gpu.read(gpu.conv2dBackwardFilter(hx, hdy, g)), await js.read(js.conv2dBackwardFilter(rx, rdy, g)),
      'float16 conv2dBackwardFilter', 2 ** -9, 2e-3 * Math.sqrt(g.n * g.oh * g.ow));
    const x16 = mg.tensor([[1, 2], [3, 4]], { backend: 'webgpu', dtype: 'float16' });
    const y16 = mg.matmul(x16, x16);
    t.equal(y16.dtype, 'float16', 'float16 is an opt-in tensor dtype');
    t.deepEqual(Array.from(await y16.data()), [7, 10, 15, 22], 'float16 tensors read back as float32 values');
    t.ok((await y16.data()) instanceof Float32Array, 'host reads of float16 are Float32Array');
  });
});

test('webgpu kernels: unsupported dtypes and foreign storages are errors, not crashes', async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (!gpu) return;
  t.equal(gpu.supportsDType('float64'), false, 'no float64 in WGSL');
  t.throws(() => mg.zeros([2], { backend: 'webgpu', dtype: 'float64' }), mg.DTypeError, 'float64 tensors are refused with a DTypeError');
  const foreign = mg.getBackend('js').upload(new Float32Array(3), 'float32');
  t.throws(() => gpu.unary('exp', view(foreign, [3]), 'float32'), mg.BackendError, 'a js storage given to webgpu is a BackendError');
  t.throws(() => (mg.tensor([1, 2], { backend: 'webgpu' }).dataSync()), mg.BackendError, 'dataSync is unavailable on webgpu');
  const mem = gpu.memory();
  t.ok(mem.liveStorages >= 0 && mem.pooledBytes >= 0 && typeof mem['gpuBytes'] === 'number', 'memory() reports pool statistics');
});

void contiguous;
void rand;

test('webgpu kernels: GPU validation errors and device loss become BackendErrors, not hangs', async (t) => {
  if (!(await webgpuOrSkip(t))) return;
  // A second, private backend instance (its own device) so losing it harms no other test.
  const { WebGpuBackend } = await import('../../ts/backend/webgpu/webgpu-backend.js');
  const b = await WebGpuBackend.create();
  const s = b.upload(new Float32Array([1, 2, 3]), 'float32');
  b.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE }); // invalid on purpose
  try {
    await b.read(s);
    t.fail('a GPU validation error should surface at the next read');
  } catch (e) {
    t.ok(e instanceof mg.BackendError, `validation error surfaced: ${(e as Error).message.slice(0, 60)}...`);
  }
  t.deepEqual(Array.from(await b.read(s)), [1, 2, 3], 'the backend keeps working after reporting it');
  const pending = b.read(b.unary('exp', view(s, [3]), 'float32'));
  b.device.destroy();
  try {
    await pending;
    t.pass('a read already submitted may still complete');
  } catch (e) {
    t.ok(e instanceof mg.BackendError, 'or it fails with a BackendError');
  }
  await new Promise((r) => setTimeout(r, 50));
  t.throws(() => b.unary('exp', view(s, [3]), 'float32'), mg.BackendError, 'ops after device loss throw BackendError');
  b.dispose();
});
