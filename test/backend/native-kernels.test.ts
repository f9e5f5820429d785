// Every native kernel called directly against the js reference on random data: strided,
// permuted, offset and broadcast views, float32/float64/int32, odd sizes; every SIMD path
// (scalar, AVX2, AVX-512 where the CPU has them) and thread counts for GEMM and conv;
// and malformed kernel arguments, which must throw a BackendError rather than crash.

import test from 'tape';
import * as mg from '../../ts/index.js';
import type { BinaryOp, Conv2dGeometry, DType, ReduceOp, Storage, UnaryOp } from '../../ts/index.js';
import { ARG_REDUCE_OPS, BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../../ts/backend/kernels.js';
import { Rand, close, hostValues, js, nativeOrWhy, reportMissingNative, pair, randomLayout, randomShape, read, view } from './native-helpers.js';
import { loadAddon } from '../../ts/backend/native/addon.js';

const { native, why } = nativeOrWhy();
const DTYPES: DType[] = ['float32', 'float64', 'int32'];
const UNARY: readonly UnaryOp[] = UNARY_OPS;
const BINARY: readonly BinaryOp[] = BINARY_OPS;

if (!native) {
  reportMissingNative('native kernels', why);
} else {
  const nb = native;
  /** values for a view spec on both backends */
  const both = (r: Rand, size: number, dtype: DType, kind: 'normal' | 'positive' | 'int' = 'normal') => pair(hostValues(r, size, dtype, kind), dtype, nb);
  const check = (t: import('tape').Test, a: Storage, b: Storage, dtype: DType, what: string, rtol?: number, atol?: number) => {
    const err = close(read(nb, a), read(js, b), dtype, rtol, atol);
    if (err) t.fail(`${what}: ${err}`);
    return !err;
  };

  test('native kernels: unary, every op and dtype, strided views', (t) => {
    const r = new Rand(1);
    let ok = 0;
    for (const dtype of DTYPES)
      for (const op of UNARY)
        for (let rep = 0; rep < 4; rep++) {
          const shape = randomShape(r);
          const spec = randomLayout(r, shape);
          const [sj, sn] = both(r, spec.size, dtype, op === 'log' || op === 'sqrt' ? 'positive' : 'normal');
          const outDtype = rep === 3 && dtype !== 'float64' ? 'float64' : dtype;
          const a = nb.unary(op, view(sn, spec), outDtype), b = js.unary(op, view(sj, spec), outDtype);
          if (check(t, a, b, outDtype, `${op} ${dtype}->${outDtype} ${JSON.stringify(spec)}`)) ok++;
        }
    // round: half to even, as the reference
    const halves = Float32Array.from([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5]);
    const rn = nb.unary('round', { storage: nb.upload(halves, 'float32'), shape: [7], strides: [1], offset: 0 }, 'float32');
    t.deepEqual(Array.from(read(nb, rn)), [-2, -2, -0, 0, 2, 2, 4], 'round half to even');
    t.pass(`${ok} unary cases match`);
    t.end();
  });

  test('native kernels: vectorized float exp/sigmoid/softmax at special values, on every SIMD path', (t) => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-10, -1e-10, 0.5, -0.5, 1, 10, 80, 88.5, 88.72, 88.8, 89, 100, -80, -87.3, -88, -95, -103, -104, -150, -1e30, 1e30];
    const r = new Rand(9);
    // long enough for the vector body and a scalar tail; values across the whole range
    const vals = Float32Array.from([...specials, ...Array.from({ length: 1000 }, () => (r.next() - 0.5) * 220)]);
    const info = nb.info();
    const paths = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info.isa) + 1);
    const v = (s: Storage) => ({ storage: s, shape: [vals.length], strides: [1], offset: 0 });
    const sj = js.upload(vals, 'float32');
    try {
      for (const isa of paths) {
        nb.setSimd(isa);
        const sn = nb.upload(vals, 'float32');
        for (const op of ['exp', 'sigmoid', 'tanh'] as const) {
          t.equal(close(read(nb, nb.unary(op, v(sn), 'float32')), read(js, js.unary(op, v(sj), 'float32')), 'float32', 4e-7, 1e-30), null, `${isa} ${op} at special values`);
        }
        for (const log of [false, true]) {
          const sm = { storage: sn, shape: [38, 27], strides: [27, 1], offset: 0 };
          const smj = { storage: sj, shape: [38, 27], strides: [27, 1], offset: 0 };
          t.equal(close(read(nb, nb.softmax(sm, 38, 27, log)), read(js, js.softmax(smj, 38, 27, log)), 'float32', 2e-6, 1e-30), null, `${isa} ${log ? 'logSoftmax' : 'softmax'} with infinities and NaN`);
        }
      }
    } finally {
      nb.setSimd(info.isa as 'avx512');
    }
    t.end();
  });

  test('native kernels: binary, every op and dtype, broadcast and strided views', (t) => {
    const r = new Rand(2);
    let ok = 0;
    for (const dtype of DTYPES)
      for (const op of BINARY)
        for (let rep = 0; rep < 5; rep++) {
          const shape = randomShape(r);
          const sa = randomLayout(r, shape, { broadcast: true }), sb = randomLayout(r, shape, { broadcast: true });
          const [aj, an] = both(r, sa.size, dtype, op === 'pow' ? 'positive' : 'normal');
          const [bj, bn] = both(r, sb.size, dtype);
          const a = nb.binary(op, view(an, sa), view(bn, sb), shape, dtype);
          const b = js.binary(op, view(aj, sa), view(bj, sb), shape, dtype);
          if (check(t, a, b, dtype, `${op} ${dtype} ${JSON.stringify([sa, sb])}`, dtype === 'float32' && op === 'pow' ? 1e-5 : undefined)) ok++;
        }
    // NaN handling of maximum/minimum and int32 wrap-around/division by zero
    const nan = Float32Array.from([NaN, 1, NaN, -1]), one = Float32Array.from([1, NaN, NaN, 2]);
    const v = (s: Storage) => ({ storage: s, shape: [4], strides: [1], offset: 0 });
    for (const op of ['maximum', 'minimum'] as const) {
      const got = read(nb, nb.binary(op, v(nb.upload(nan, 'float32')), v(nb.upload(one, 'float32')), [4], 'float32'));
      const ref = read(js, js.binary(op, v(js.upload(nan, 'float32')), v(js.upload(one, 'float32')), [4], 'float32'));
      t.equal(close(got, ref, 'float32'), null, `${op} NaN rules`);
    }
    const big = Int32Array.from([2147483647, -2147483648, 7, -7]), den = Int32Array.from([1, -1, 0, 2]);
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const got = read(nb, nb.binary(op, v(nb.upload(big, 'int32')), v(nb.upload(den, 'int32')), [4], 'int32'));
      const ref = read(js, js.binary(op, v(js.upload(big, 'int32')), v(js.upload(den, 'int32')), [4], 'int32'));
      t.deepEqual(Array.from(got), Array.from(ref), `int32 ${op} wraps like the reference`);
    }
    t.pass(`${ok} binary cases match`);
    t.end();
  });

  test('native kernels: where, cast, copy, fill', (t) => {
    const r = new Rand(3);
    for (let rep = 0; rep < 40; rep++) {
      const dtype = r.pick(DTYPES), cdt = r.pick(DTYPES);
      const shape = randomShape(r);
      const sc = randomLayout(r, shape, { broadcast: true }), sa = randomLayout(r, shape, { broadcast: true }), sb = randomLayout(r, shape, { broadcast: true });
      const cv = hostValues(r, sc.size, cdt, 'int').map((x) => (x > 0 ? 1 : 0));
      const [cj, cn] = pair(cv, cdt, nb);
      const [aj, an] = both(r, sa.size, dtype), [bj, bn] = both(r, sb.size, dtype);
      check(t, nb.where(view(cn, sc), view(an, sa), view(bn, sb), shape, dtype), js.where(view(cj, sc), view(aj, sa), view(bj, sb), shape, dtype), dtype, `where ${JSON.stringify(shape)}`);
      const to = r.pick(DTYPES);
      check(t, nb.cast(view(an, sa), to), js.cast(view(aj, sa), to), to, `cast ${dtype}->${to}`);
      // copy into a strided destination of another storage
      const sd = randomLayout(r, shape);
      const [dj, dn] = both(r, sd.size, to);
      nb.copy(view(an, sa), view(dn, sd));
      js.copy(view(aj, sa), view(dj, sd));
      check(t, dn, dj, to, `copy ${dtype}->${to} ${JSON.stringify([sa, sd])}`);
    }
    // copy within one storage (overlapping): native reads the whole source first (memmove
    // semantics); the reference's result there depends on its loop order, so no comparison
    const on = nb.upload(Float32Array.from({ length: 10 }, (_, i) => i), 'float32');
    nb.copy({ storage: on, shape: [8], strides: [1], offset: 0 }, { storage: on, shape: [8], strides: [1], offset: 2 });
    t.deepEqual(Array.from(read(nb, on)), [0, 1, 0, 1, 2, 3, 4, 5, 6, 7], 'overlapping copy reads the source first');
    for (const dtype of DTYPES) {
      const v = dtype === 'int32' ? -7 : 0.1;
      t.deepEqual(Array.from(read(nb, nb.fill(13, v, dtype))), Array.from(read(js, js.fill(13, v, dtype))), `fill ${dtype}`);
    }
    t.end();
  });

  test('native kernels: reduce over random axes, argReduce, softmax', (t) => {
    const r = new Rand(4);
    const ops: readonly ReduceOp[] = REDUCE_OPS;
    let ok = 0;
    for (let rep = 0; rep < 160; rep++) {
      const dtype = r.pick(DTYPES), op = r.pick(ops);
      const shape = randomShape(r, 4, 7);
      const axes = shape.map((_, i) => i).filter(() => r.next() < 0.5);
      const spec = randomLayout(r, shape, { broadcast: rep % 5 === 0 });
      const [xj, xn] = both(r, spec.size, dtype, op === 'prod' ? 'positive' : 'normal');
      if (check(t, nb.reduce(op, view(xn, spec), axes), js.reduce(op, view(xj, spec), axes), dtype, `${op} ${dtype} axes ${axes} ${JSON.stringify(spec)}`, 1e-5, 1e-5)) ok++;
      if (shape.length > 0) {
        const axis = r.int(0, shape.length - 1);
        const am = r.pick(ARG_REDUCE_OPS);
        if (check(t, nb.argReduce(am, view(xn, spec), axis), js.argReduce(am, view(xj, spec), axis), 'int32', `${am} axis ${axis}`)) ok++;
      }
    }
    // the parallel paths: a large full reduction and a leading-axis reduction
    for (const dtype of ['float32', 'float64'] as DType[]) {
      const n = 1 << 18;
      const [xj, xn] = both(r, n, dtype);
      const flat = { shape: [n], strides: [1], offset: 0 };
      for (const op of ['sum', 'max', 'min'] as ReduceOp[]) check(t, nb.reduce(op, { storage: xn, ...flat }, [0]), js.reduce(op, { storage: xj, ...flat }, [0]), dtype, `big ${op}`, 1e-5, 1e-4);
      const mat = { shape: [512, 512], strides: [512, 1], offset: 0 };
      check(t, nb.reduce('sum', { storage: xn, ...mat }, [0]), js.reduce('sum', { storage: xj, ...mat }, [0]), dtype, 'leading axis sum', 1e-5, 1e-5);
      check(t, nb.reduce('max', { storage: xn, ...mat }, [1]), js.reduce('max', { storage: xj, ...mat }, [1]), dtype, 'last axis max');
    }
    // NaN sticks in max/min; empty reductions give the identity
    const nanv = Float32Array.from([1, NaN, 3]);
    t.ok(Number.isNaN(read(nb, nb.reduce('max', { storage: nb.upload(nanv, 'float32'), shape: [3], strides: [1], offset: 0 }, [0]))[0]!), 'max propagates NaN');
    t.deepEqual(Array.from(read(nb, nb.reduce('sum', { storage: nb.zeros(0, 'float32'), shape: [2, 0], strides: [0, 1], offset: 0 }, [1]))), [0, 0], 'sum over an empty axis');
    // long rows take the vectorized max/min: a NaN anywhere in a row still wins
    const rowsNaN = Float32Array.from({ length: 4 * 37 }, (_, i) => Math.sin(i));
    rowsNaN[1 * 37 + 30] = NaN;
    rowsNaN[3 * 37 + 2] = NaN;
    const [rj, rn] = pair(rowsNaN, 'float32', nb);
    for (const op of ['max', 'min'] as ReduceOp[]) {
      const mv = { shape: [4, 37], strides: [37, 1], offset: 0 };
      check(t, nb.reduce(op, { storage: rn, ...mv }, [1]), js.reduce(op, { storage: rj, ...mv }, [1]), 'float32', `${op} of long rows with NaN`);
    }
    for (let rep = 0; rep < 30; rep++) {
      const dtype = r.pick(['float32', 'float64'] as DType[]);
      const rows = r.int(1, 9), cols = r.int(1, 40);
      const spec = randomLayout(r, [rows, cols]);
      const [xj, xn] = both(r, spec.size, dtype);
      const log = r.next() < 0.5;
      if (check(t, nb.softmax(view(xn, spec), rows, cols, log), js.softmax(view(xj, spec), rows, cols, log), dtype, `softmax log=${log}`)) ok++;
    }
    t.pass(`${ok} reduction cases match`);
    t.end();
  });

  function matmulCases(t: import('tape').Test, r: Rand, label: string, sizes: number[], reps: number): void {
    for (let rep = 0; rep < reps; rep++) {
      const dtype: DType = rep % 7 === 6 ? 'int32' : rep % 3 === 2 ? 'float64' : 'float32';
      const m = r.pick(sizes), n = r.pick(sizes), k = r.pick(sizes), batch = r.int(1, 3);
      const ta = r.next() < 0.5, tb = r.next() < 0.5, bcast = r.next() < 0.3;
      const off = r.int(0, 2);
      // a: [batch, m, k] (or its transposed layout), b: [batch, k, n]; b may broadcast over the batch
      const A = { offset: off, batchStride: m * k, rowStride: ta ? 1 : k, colStride: ta ? m : 1 };
      const B = { offset: 0, batchStride: bcast ? 0 : k * n, rowStride: tb ? 1 : n, colStride: tb ? k : 1 };
      const [aj, an] = both(r, off + batch * m * k, dtype);
      const [bj, bn] = both(r, (bcast ? 1 : batch) * k * n, dtype);
      const d = { batch, m, n, k };
      const got = nb.matmul({ storage: an, ...A }, { storage: bn, ...B }, d, dtype);
      const ref = js.matmul({ storage: aj, ...A }, { storage: bj, ...B }, d, dtype);
      const tol = dtype === 'float32' ? 1e-5 * Math.sqrt(k) : undefined;
      check(t, got, ref, dtype, `${label} matmul ${dtype} b${batch} ${m}x${k}x${n} ta=${ta} tb=${tb} bcast=${bcast}`, tol, tol);
    }
  }

  test('native kernels: matmul on every SIMD path and thread count (odd sizes, transposes, broadcast batch)', (t) => {
    const r = new Rand(5);
    const info = nb.info();
    const addon = loadAddon();
    t.comment(`native: ${info.isa}, ${info.threads} threads`);
    const paths = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info.isa) + 1);
    try {
      for (const isa of paths) {
        nb.setSimd(isa);
        for (const threads of [1, 3]) {
          nb.setThreads(threads);
          matmulCases(t, r, `${isa}/${threads}t`, [1, 2, 3, 5, 7, 12, 13, 17, 31, 33, 64], 25);
          // at the default blocks (KC 1024, MC ≈ 144: one k pass, a few row blocks), and at
          // short ones (KC 96, MC 48, NC 64: k in up to 6 passes, row blocks and column panels
          // with their edges), so every packing loop and the accumulation across passes run
          matmulCases(t, r, `${isa}/${threads}t large`, [150, 257, 520], 2);
          addon.gemmTune(96, 48, 64);
          try {
            matmulCases(t, r, `${isa}/${threads}t short blocks`, [150, 257, 520], 3);
          } finally {
            addon.gemmTune(1024, 144, 4096);
          }
        }
      }
    } finally {
      nb.setSimd(info.isa as 'avx512');
      nb.setThreads(info.threads);
    }
    t.pass(`matmul checked on ${paths.join(', ')}`);
    t.end();
  });

  function convCases(t: import('tape').Test, r: Rand, label: string, reps: number): void {
    for (let rep = 0; rep < reps; rep++) {
      const dtype: DType = rep % 3 === 2 ? 'float64' : 'float32';
      const groups = r.pick([1, 1, 2, 3]);
      const cIn = groups * r.int(1, 3), cOut = groups * r.int(1, 3);
      const kh = r.int(1, 3), kw = r.int(1, 3);
      const strideH = r.int(1, 2), strideW = r.int(1, 2), padH = r.int(0, 1), padW = r.int(0, 2);
      const dilationH = r.int(1, 2), dilationW = r.int(1, 2);
      const h = r.int(kh * dilationH, 9), w = r.int(kw * dilationW, 9), n = r.int(1, 4);
      const oh = Math.floor((h + 2 * padH - dilationH * (kh - 1) - 1) / strideH) + 1;
      const ow = Math.floor((w + 2 * padW - dilationW * (kw - 1) - 1) / strideW) + 1;
      const g: Conv2dGeometry = { n, cIn, h, w, cOut, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW, groups };
      const [xj, xn] = both(r, n * cIn * h * w, dtype);
      const [wj, wn] = both(r, cOut * (cIn / groups) * kh * kw, dtype);
      const [dj, dn] = both(r, n * cOut * oh * ow, dtype);
      const rtol = dtype === 'float32' ? 1e-5 : undefined, atol = dtype === 'float32' ? 1e-4 : undefined;
      const desc = `${label} ${dtype} ${JSON.stringify(g)}`;
      check(t, nb.conv2d(xn, wn, g), js.conv2d(xj, wj, g), dtype, `conv2d ${desc}`, rtol, atol);
      const [bj, bn] = both(r, cOut, dtype);
      check(t, nb.conv2d(xn, wn, g, bn), js.conv2d(xj, wj, g, bj), dtype, `conv2d with bias ${desc}`, rtol, atol);
      check(t, nb.conv2dBackwardInput(dn, wn, g), js.conv2dBackwardInput(dj, wj, g), dtype, `conv2dBackwardInput ${desc}`, rtol, atol);
      check(t, nb.conv2dBackwardFilter(xn, dn, g), js.conv2dBackwardFilter(xj, dj, g), dtype, `conv2dBackwardFilter ${desc}`, rtol, atol);
      const fb = nb.conv2dBackwardFilterBias(xn, dn, g), fj = js.conv2dBackwardFilterBias(xj, dj, g);
      check(t, fb.dw, fj.dw, dtype, `conv2dBackwardFilterBias dw ${desc}`, rtol, atol);
      check(t, fb.db, fj.db, dtype, `conv2dBackwardFilterBias db ${desc}`, rtol, atol);
    }
  }

  test('native kernels: conv2d and both transposes (groups, stride, padding, dilation, 1x1) on every SIMD path', (t) => {
    const r = new Rand(6);
    const info = nb.info();
    const paths = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info.isa) + 1);
    try {
      for (const isa of paths) {
        nb.setSimd(isa);
        for (const threads of [1, 3]) {
          nb.setThreads(threads);
          convCases(t, r, `${isa}/${threads}t`, 20);
        }
      }
    } finally {
      nb.setSimd(info.isa as 'avx512');
      nb.setThreads(info.threads);
    }
    // a Conv-4-like layer, big enough to use the parallel image split
    const g: Conv2dGeometry = { n: 6, cIn: 8, h: 14, w: 14, cOut: 16, kh: 3, kw: 3, oh: 14, ow: 14, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 };
    const [xj, xn] = both(r, 6 * 8 * 196, 'float32'), [wj, wn] = both(r, 16 * 8 * 9, 'float32'), [dj, dn] = both(r, 6 * 16 * 196, 'float32');
    check(t, nb.conv2d(xn, wn, g), js.conv2d(xj, wj, g), 'float32', 'conv4 forward', 1e-5, 5e-4);
    check(t, nb.conv2dBackwardInput(dn, wn, g), js.conv2dBackwardInput(dj, wj, g), 'float32', 'conv4 dx', 1e-5, 5e-4);
    check(t, nb.conv2dBackwardFilter(xn, dn, g), js.conv2dBackwardFilter(xj, dj, g), 'float32', 'conv4 dw', 1e-5, 5e-3);
    t.pass('conv kernels checked');
    t.end();
  });

  test('native kernels: conv2d folds of several images, the flipped-filter input gradient and the small-image gather', (t) => {
    const r = new Rand(16);
    const info = nb.info();
    const paths = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info.isa) + 1);
    // [n, cIn, cOut, h, pad, groups]: Conv-4 shapes at small channel counts (folds of 3×3, 5×5,
    // 7×7 and 14×14 images; cIn/groups ≥ 8 takes the flipped-filter input gradient), pads 0 and
    // 2 (flipped padding 2 and 0), grouped, one input channel (the transposed filter gradient),
    // and planes of 34 and 40 (the shifted-padded-fold forward, padding 1 and 2, grouped)
    const shapes: [number, number, number, number, number, number][] = [
      [13, 8, 16, 3, 1, 1], [9, 16, 8, 7, 1, 1], [5, 8, 8, 14, 1, 1], [7, 8, 12, 5, 0, 1],
      [6, 16, 8, 6, 2, 2], [1, 8, 8, 7, 1, 1], [11, 1, 40, 9, 1, 1], [4, 3, 33, 12, 1, 1],
      [3, 8, 8, 34, 1, 1], [2, 16, 8, 40, 2, 2],
    ];
    try {
      for (const isa of paths) {
        nb.setSimd(isa);
        for (const threads of [1, 2, 3]) {
          nb.setThreads(threads);
          for (const [n, cIn, cOut, h, pad, groups] of shapes) {
            const oh = h + 2 * pad - 2;
            const g: Conv2dGeometry = { n, cIn, h, w: h, cOut, kh: 3, kw: 3, oh, ow: oh, strideH: 1, strideW: 1, padH: pad, padW: pad, dilationH: 1, dilationW: 1, groups };
            for (const dtype of ['float32', 'float64'] as const) {
              const [xj, xn] = both(r, n * cIn * h * h, dtype), [wj, wn] = both(r, cOut * (cIn / groups) * 9, dtype);
              const [dj, dn] = both(r, n * cOut * oh * oh, dtype);
              const rtol = dtype === 'float32' ? 1e-5 : undefined, atol = dtype === 'float32' ? 5e-4 : undefined;
              const desc = `${isa}/${threads}t ${dtype} n${n} ${cIn}->${cOut}@${h} pad ${pad} groups ${groups}`;
              check(t, nb.conv2d(xn, wn, g), js.conv2d(xj, wj, g), dtype, `conv2d ${desc}`, rtol, atol);
              const [bj, bn] = both(r, cOut, dtype);
              check(t, nb.conv2d(xn, wn, g, bn), js.conv2d(xj, wj, g, bj), dtype, `conv2d with bias ${desc}`, rtol, atol);
              check(t, nb.conv2dBackwardInput(dn, wn, g), js.conv2dBackwardInput(dj, wj, g), dtype, `conv2dBackwardInput ${desc}`, rtol, atol);
              check(t, nb.conv2dBackwardFilter(xn, dn, g), js.conv2dBackwardFilter(xj, dj, g), dtype, `conv2dBackwardFilter ${desc}`, rtol, dtype === 'float32' ? 5e-3 : undefined);
              const fb = nb.conv2dBackwardFilterBias(xn, dn, g), fj = js.conv2dBackwardFilterBias(xj, dj, g);
              check(t, fb.dw, fj.dw, dtype, `conv2dBackwardFilterBias dw ${desc}`, rtol, dtype === 'float32' ? 5e-3 : undefined);
              check(t, fb.db, fj.db, dtype, `conv2dBackwardFilterBias db ${desc}`, rtol, dtype === 'float32' ? 5e-3 : undefined);
            }
          }
        }
      }
    } finally {
      nb.setSimd(info.isa as 'avx512');
      nb.setThreads(info.threads);
    }
    t.pass('folded conv kernels checked');
    t.end();
  });

  test('native kernels: the direct float32 convolutions (padded input read in place; AVX-512 and AVX2) on the shapes that take them', (t) => {
    const r = new Rand(26);
    const info = nb.info();
    const addon = loadAddon();
    const paths = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info.isa) + 1);
    const enabled = process.env['METAGRAD_CONV_DIRECT'] !== '0';
    if (info.isa === 'scalar') t.comment('no SIMD here: no direct kernels, so every path must report the unfolding');
    // [n, cIn, cOut, h, w, kh, kw, padH, padW, groups] and which of forward / input / filter go direct:
    // 64 channels @7 (the Conv-4 layer), 48 output channels (three registers of them) on a
    // non-square plane, a 3×5 kernel, a valid conv, grouped 5×5, padding k−1 (flipped padding
    // 0), 40 output channels (the filter stays on unfolding), 4 per group, 3×3 planes (too
    // few real columns for the flat forward; the filter gradient, over real pixels only, takes
    // them), one input channel
    const cases: [number[], [boolean, boolean, boolean], [boolean, boolean, boolean]?][] = [
      // batches of small planes go image-per-lane on AVX-512 (the third column: AVX2's paths,
      // whose forward tiles real output pixels, so it takes every stride-1 plane): 29 images (a
      // full and a partial lane group) @3, 13 @7 (one partial group), a 5×6 valid conv (whose
      // input gradient, a 3×4 → 5×6 conv, has enough real columns for the flat layout)
      [[29, 16, 16, 3, 3, 3, 3, 1, 1, 1], [true, true, true]],
      [[13, 8, 24, 7, 7, 3, 3, 1, 1, 1], [true, true, false]],
      [[32, 16, 16, 5, 6, 3, 3, 0, 0, 1], [true, true, true]],
      // the lanes skip the taps in the padding pixel by pixel two panels at a time (the forwards
      // here: 16 output channels), and pair by pair along a spiral from the border for a single
      // or odd last panel (the input gradients: 8 channels; 24 channels @7 above): a 5×7 plane
      // (an odd ring and an odd pixel left), and a 5×5 kernel with padding 2 on 6×5
      [[14, 8, 16, 5, 7, 3, 3, 1, 1, 1], [true, true, true]],
      [[16, 8, 16, 6, 5, 5, 5, 2, 2, 1], [true, true, true]],
      // planes up to 512 pixels: an 11×13 one (lanes rather than the flat layout)
      [[12, 16, 16, 11, 13, 3, 3, 1, 1, 1], [true, true, true]],
      // grouped (as the task-batched inner loop runs its tasks): 2 groups of 16 channels @3
      [[29, 32, 32, 3, 3, 3, 3, 1, 1, 2], [true, true, true]],
      [[3, 64, 64, 7, 7, 3, 3, 1, 1, 1], [true, true, true]],
      [[5, 16, 48, 9, 11, 3, 3, 1, 1, 1], [true, true, true]],
      [[2, 8, 16, 10, 12, 3, 5, 1, 2, 1], [true, true, true]],
      [[4, 16, 32, 16, 16, 3, 3, 0, 0, 1], [true, true, true]],
      [[3, 32, 32, 12, 12, 5, 5, 2, 2, 2], [true, true, true]],
      [[1, 8, 16, 20, 20, 3, 3, 2, 2, 1], [true, true, true]],
      [[7, 8, 16, 14, 14, 3, 3, 1, 1, 1], [true, true, true]],
      [[2, 24, 40, 14, 14, 3, 3, 1, 1, 1], [true, true, false]],
      [[6, 16, 8, 7, 7, 3, 3, 1, 1, 2], [true, false, false]],
      [[9, 16, 16, 3, 3, 3, 3, 1, 1, 1], [false, false, true], [true, true, true]],
      // 1–3 input channels per group: the filter gradient by row dot products (conv_thin_filter.cc)
      // — one channel @14 (two 16-column chunks, one partial), three channels on a 20×37 plane
      // with padding 2 (three chunks), 5 output channels (a tile of two short of one), a valid
      // conv, 2 per group over 3 groups, and a 3×3 plane (one partial chunk per row)
      [[4, 1, 32, 14, 14, 3, 3, 1, 1, 1], [false, false, true]],
      [[3, 3, 5, 20, 37, 3, 3, 2, 2, 1], [false, false, true]],
      [[5, 2, 7, 9, 9, 3, 3, 0, 0, 1], [false, false, true]],
      [[4, 6, 9, 8, 11, 3, 3, 1, 1, 3], [false, false, true]],
      [[17, 1, 16, 3, 3, 3, 3, 1, 1, 1], [false, false, true]],
    ];
    const threadCounts = [1, 2, 3];
    // Winograd would take several of these 3×3 shapes first (its own test follows)
    addon.setConvWinograd(false);
    try {
      for (const isa of paths) {
        nb.setSimd(isa);
        for (const [[n, cIn, cOut, h, w, kh, kw, padH, padW, groups], want512, want2] of cases) {
          const want = isa === 'avx2' ? want2 ?? want512 : want512;
          const oh = h + 2 * padH - kh + 1, ow = w + 2 * padW - kw + 1;
          const g: Conv2dGeometry = { n: n!, cIn: cIn!, h: h!, w: w!, cOut: cOut!, kh: kh!, kw: kw!, oh, ow, strideH: 1, strideW: 1, padH: padH!, padW: padW!, dilationH: 1, dilationW: 1, groups: groups! };
          const desc = `${isa}: n${n} ${cIn}->${cOut} @${h}x${w} k${kh}x${kw} pad ${padH},${padW} groups ${groups}`;
          const got = addon.convDirectPaths(Float64Array.of(g.n, g.cIn, g.h, g.w, g.cOut, g.kh, g.kw, g.oh, g.ow, 1, 1, g.padH, g.padW, 1, 1, g.groups));
          const expect = enabled && isa !== 'scalar' ? want : [false, false, false];
          t.deepEqual([got.forward, got.input, got.filter], expect, `${desc}: direct forward / input / filter ${expect.join(' / ')}`);
          const [xj, xn] = both(r, n! * cIn! * h! * w!, 'float32'), [wj, wn] = both(r, cOut! * (cIn! / groups!) * kh! * kw!, 'float32');
          const [dj, dn] = both(r, n! * cOut! * oh * ow, 'float32');
          const [bj, bn] = both(r, cOut!, 'float32');
          const y = js.conv2d(xj, wj, g), dx = js.conv2dBackwardInput(dj, wj, g), dw = js.conv2dBackwardFilter(xj, dj, g);
          const yb = js.conv2d(xj, wj, g, bj), db = js.conv2dBackwardFilterBias(xj, dj, g).db;
          for (const threads of threadCounts) {
            nb.setThreads(threads);
            const ok = check(t, nb.conv2d(xn, wn, g), y, 'float32', `conv2d ${desc} ${threads}t`, 1e-5, 5e-4) &&
              check(t, nb.conv2d(xn, wn, g, bn), yb, 'float32', `conv2d with bias ${desc} ${threads}t`, 1e-5, 5e-4) &&
              check(t, nb.conv2dBackwardInput(dn, wn, g), dx, 'float32', `conv2dBackwardInput ${desc} ${threads}t`, 1e-5, 5e-4) &&
              check(t, nb.conv2dBackwardFilter(xn, dn, g), dw, 'float32', `conv2dBackwardFilter ${desc} ${threads}t`, 1e-5, 5e-3) &&
              check(t, nb.conv2dBackwardFilterBias(xn, dn, g).dw, dw, 'float32', `conv2dBackwardFilterBias dw ${desc} ${threads}t`, 1e-5, 5e-3) &&
              check(t, nb.conv2dBackwardFilterBias(xn, dn, g).db, db, 'float32', `conv2dBackwardFilterBias db ${desc} ${threads}t`, 1e-5, 5e-3);
            if (ok) t.pass(`${desc} ${threads}t: forward, input and filter gradients match the reference`);
          }
        }
      }
      for (const isa of paths) {
        nb.setSimd(isa);
        nanChecks(isa);
      }
    } finally {
      addon.setConvWinograd(true);
      nb.setSimd(info.isa as 'avx512');
      nb.setThreads(info.threads);
    }
    t.end();

    function nanChecks(isa: string): void {
      // NaN reaches exactly the outputs it touches: one NaN input pixel poisons its 3×3 neighbourhood
      const g: Conv2dGeometry = { n: 2, cIn: 16, h: 9, w: 9, cOut: 16, kh: 3, kw: 3, oh: 9, ow: 9, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 };
      const xv = hostValues(r, 2 * 16 * 81, 'float32', 'normal');
      xv[81 + 4 * 9 + 4] = NaN;  // image 0, channel 1, pixel (4, 4)
      const [, xn] = pair(xv, 'float32', nb), [, wn] = both(r, 16 * 16 * 9, 'float32');
      const yv = read(nb, nb.conv2d(xn, wn, g));
      let nanAt = 0, wrong = 0;
      for (let i = 0; i < yv.length; i++) {
        const j = Math.floor(i / (16 * 81)), p = i % 81, oy = Math.floor(p / 9), ox = p % 9;
        const touched = j === 0 && Math.abs(oy - 4) <= 1 && Math.abs(ox - 4) <= 1;
        if (Number.isNaN(yv[i]!)) nanAt++;
        if (Number.isNaN(yv[i]!) !== touched) wrong++;
      }
      t.equal(wrong, 0, `${isa}: a NaN input pixel makes exactly its 3×3 neighbourhood NaN in every output channel (${nanAt} NaN outputs)`);
      // a NaN in a corner is read by the taps (ky, kx) ≤ (1, 1) only: the filter gradient must
      // not meet it at the junk columns of the padded layout (image 1, so it sits after a gap row)
      const xc = hostValues(r, 2 * 16 * 81, 'float32', 'normal');
      xc[16 * 81 + 81] = NaN;  // image 1, channel 1, pixel (0, 0)
      const [, xcn] = pair(xc, 'float32', nb), [, dyn] = both(r, 2 * 16 * 81, 'float32');
      const dwv = read(nb, nb.conv2dBackwardFilter(xcn, dyn, g));
      let wrongDw = 0;
      for (let i = 0; i < dwv.length; i++) {
        const c = Math.floor(i / 9) % 16, ky = Math.floor((i % 9) / 3), kx = i % 3;
        if (Number.isNaN(dwv[i]!) !== (c === 1 && ky <= 1 && kx <= 1)) wrongDw++;
      }
      t.equal(wrongDw, 0, `${isa}: a NaN corner pixel makes exactly the filter-gradient taps that read it NaN`);
      // one input channel (the row dot products): a NaN at the end of a 20-column row (past a
      // full chunk) is read by the taps (ky ≤ 1, kx ≥ 1) only; a NaN in dY poisons its channel's
      // taps and bias gradient only
      const gt: Conv2dGeometry = { ...g, cIn: 1, w: 20, ow: 20 };
      const xt = hostValues(r, 2 * 9 * 20, 'float32', 'normal');
      xt[9 * 20 + 19] = NaN;  // image 1, pixel (0, 19)
      const dt = hostValues(r, 2 * 16 * 9 * 20, 'float32', 'normal');
      const [, xtn] = pair(xt, 'float32', nb), [, dtn] = both(r, 2 * 16 * 9 * 20, 'float32');
      const dwt = read(nb, nb.conv2dBackwardFilter(xtn, dtn, gt));
      let wrongT = 0;
      for (let i = 0; i < dwt.length; i++) {
        const ky = Math.floor((i % 9) / 3), kx = i % 3;
        if (Number.isNaN(dwt[i]!) !== (ky <= 1 && kx >= 1)) wrongT++;
      }
      t.equal(wrongT, 0, `${isa}: one input channel: a NaN at a row's last pixel makes exactly the taps that read it NaN`);
      dt[(16 + 3) * 180 + 77] = NaN;  // image 1, output channel 3
      const [, xfn] = both(r, 2 * 9 * 20, 'float32'), [, dfn] = pair(dt, 'float32', nb);
      const fb = nb.conv2dBackwardFilterBias(xfn, dfn, gt), dwf = read(nb, fb.dw), dbf = read(nb, fb.db);
      let wrongF = 0;
      for (let i = 0; i < dwf.length; i++) if (Number.isNaN(dwf[i]!) !== (Math.floor(i / 9) === 3)) wrongF++;
      for (let c = 0; c < 16; c++) if (Number.isNaN(dbf[c]!) !== (c === 3)) wrongF++;
      t.equal(wrongF, 0, `${isa}: one input channel: a NaN in dY makes exactly its channel's taps and bias gradient NaN`);
    }
  });

  test('native kernels: Winograd F(2×2, 3×3) convolutions (forward, input and filter gradients) against the reference and the direct kernels', (t) => {
    const r = new Rand(27);
    const info = nb.info();
    const addon = loadAddon();
    if (info.isa !== 'avx512' || process.env['METAGRAD_CONV_DIRECT'] === '0' || process.env['METAGRAD_CONV_WINOGRAD'] === '0') {
      t.comment(`isa ${info.isa}, METAGRAD_CONV_DIRECT=${process.env['METAGRAD_CONV_DIRECT'] ?? ''}, METAGRAD_CONV_WINOGRAD=${process.env['METAGRAD_CONV_WINOGRAD'] ?? ''}: no Winograd here, so every shape must say so`);
    }
    const on = info.isa === 'avx512' && process.env['METAGRAD_CONV_DIRECT'] !== '0' && process.env['METAGRAD_CONV_WINOGRAD'] !== '0';
    const geom = (n: number, cIn: number, cOut: number, h: number, w: number, k = 3, pad = 1, groups = 1): Conv2dGeometry =>
      ({ n, cIn, h, w, cOut, kh: k, kw: k, oh: h + 2 * pad - k + 1, ow: w + 2 * pad - k + 1, strideH: 1, strideW: 1, padH: pad, padW: pad, dilationH: 1, dilationW: 1, groups });
    const pathsOf = (g: Conv2dGeometry) => addon.convDirectPaths(Float64Array.of(g.n, g.cIn, g.h, g.w, g.cOut, g.kh, g.kw, g.oh, g.ow, 1, 1, g.padH, g.padW, 1, 1, g.groups));
    // what it takes: the Conv-4 planes 14×14 (49 tiles, one image a task; 5 images, so the bands
    // halve for the threads) and 7×7 (a ragged last tile row and column; 3 images a task),
    // the smallest planes 4×4 and 5×4, a 9×11 plane and a 13×8 one, 80 output channels (a 64-channel
    // panel and a 16-channel one; its input gradient 16), 32 channels on 21×21 and on 42×42
    // (bands of tile rows within one image), more images than a task takes
    const takes: [Conv2dGeometry, boolean][] = [
      [geom(5, 64, 64, 14, 14), true], [geom(7, 64, 64, 7, 7), true], [geom(2, 16, 16, 4, 4), true], [geom(3, 16, 32, 5, 4), true], [geom(3, 32, 16, 9, 11), true],
      [geom(1, 16, 80, 13, 8), true], [geom(4, 32, 32, 21, 21), true], [geom(1, 16, 16, 42, 42), true], [geom(75, 16, 16, 7, 7), true],
      // groups of 16 channels and more, one after another (the task-batched inner loop's one
      // group per task): two on 8×8, four of 16 → 32 on 7×7 (input gradient 32 → 16 a group)
      [geom(4, 32, 32, 8, 8, 3, 1, 2), true], [geom(3, 64, 128, 7, 7, 3, 1, 4), true],
      // what it leaves to the direct kernels: 3×3 and 3×6 planes, two groups of 8 channels, 8
      // input channels (so an input gradient of 8 output channels), no padding, a 5×5 kernel
      [geom(4, 16, 16, 3, 3), false], [geom(2, 16, 16, 3, 6), false], [geom(4, 16, 32, 8, 8, 3, 1, 2), false], [geom(4, 8, 16, 8, 8), false],
      [geom(4, 16, 16, 8, 8, 3, 0), false], [geom(4, 16, 16, 8, 8, 5, 2), false],
    ];
    try {
      for (const [g, takes3x3] of takes) {
        const desc = `n${g.n} ${g.cIn}->${g.cOut} @${g.h}x${g.w} k${g.kh} pad ${g.padH} groups ${g.groups}`;
        const p = pathsOf(g);
        t.deepEqual([p.winogradForward, p.winogradInput, p.winogradFilter], [on && takes3x3, on && takes3x3, on && takes3x3], `${desc}: Winograd forward / input / filter ${on && takes3x3}`);
        const [xj, xn] = both(r, g.n * g.cIn * g.h * g.w, 'float32'), [wj, wn] = both(r, g.cOut * (g.cIn / g.groups) * g.kh * g.kw, 'float32');
        const [dj, dn] = both(r, g.n * g.cOut * g.oh * g.ow, 'float32'), [bj, bn] = both(r, g.cOut, 'float32');
        const y = js.conv2d(xj, wj, g), yb = js.conv2d(xj, wj, g, bj), dx = js.conv2dBackwardInput(dj, wj, g);
        const dw = js.conv2dBackwardFilter(xj, dj, g), db = js.conv2dBackwardFilterBias(xj, dj, g).db;
        for (const threads of [1, 2, 3]) {
          nb.setThreads(threads);
          const ok = check(t, nb.conv2d(xn, wn, g), y, 'float32', `conv2d ${desc} ${threads}t`, 1e-5, 5e-4) &&
            check(t, nb.conv2d(xn, wn, g, bn), yb, 'float32', `conv2d with bias ${desc} ${threads}t`, 1e-5, 5e-4) &&
            check(t, nb.conv2dBackwardInput(dn, wn, g), dx, 'float32', `conv2dBackwardInput ${desc} ${threads}t`, 1e-5, 5e-4) &&
            check(t, nb.conv2dBackwardFilter(xn, dn, g), dw, 'float32', `conv2dBackwardFilter ${desc} ${threads}t`, 1e-5, 5e-3) &&
            check(t, nb.conv2dBackwardFilterBias(xn, dn, g).dw, dw, 'float32', `conv2dBackwardFilterBias dw ${desc} ${threads}t`, 1e-5, 5e-3) &&
            check(t, nb.conv2dBackwardFilterBias(xn, dn, g).db, db, 'float32', `conv2dBackwardFilterBias db ${desc} ${threads}t`, 1e-5, 5e-3);
          if (ok) t.pass(`${desc} ${threads}t: forward (with and without bias), input and filter gradients (with and without the bias's) match the reference`);
        }
        // the same as the direct kernels beneath, to float32 rounding
        const all = () => [read(nb, nb.conv2d(xn, wn, g, bn)), read(nb, nb.conv2dBackwardInput(dn, wn, g)), read(nb, nb.conv2dBackwardFilter(xn, dn, g))];
        const wino = all();
        addon.setConvWinograd(false);
        const direct = all();
        addon.setConvWinograd(true);
        // the largest difference against the largest output: float32 sums of up to 576 terms
        // (the filter gradient's of n·h·w)
        let worst = 0;
        for (const [a, b] of wino.map((v, i) => [v, direct[i]!] as const)) {
          let diff = 0, big = 0;
          for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!)), big = Math.max(big, Math.abs(b[i]!));
          worst = Math.max(worst, diff / big);
        }
        t.ok(worst < 2e-6, `${desc}: Winograd and the direct kernels agree (largest difference ${worst.toExponential(2)} of the largest output)`);
      }
      nb.setThreads(2);
      // a value that is not finite: the transforms would mix it into its whole tile (an
      // infinity minus itself is NaN), so those calls go to the direct kernels and NaN and
      // infinity land exactly where the direct kernels put them
      const g1 = geom(3, 16, 32, 14, 14);
      const nonFinite = (what: string, xv: Float32Array, wv: Float32Array, dv: Float32Array, g = g1): void => {
        const [, xn] = pair(xv, 'float32', nb), [, wn] = pair(wv, 'float32', nb), [, dn] = pair(dv, 'float32', nb);
        const all = () => [read(nb, nb.conv2d(xn, wn, g)), read(nb, nb.conv2dBackwardInput(dn, wn, g)), read(nb, nb.conv2dBackwardFilter(xn, dn, g)),
          read(nb, nb.conv2dBackwardFilterBias(xn, dn, g).db)];
        const wino = all();
        addon.setConvWinograd(false);
        const direct = all();
        addon.setConvWinograd(true);
        let differ = 0, special = 0;
        for (const [a, b] of wino.map((v, i) => [v, direct[i]!] as const))
          for (let i = 0; i < a.length; i++) {
            if (!Number.isFinite(b[i]!)) special++;
            if (Number.isFinite(a[i]!) !== Number.isFinite(b[i]!) || (!Number.isFinite(b[i]!) && !Object.is(a[i], b[i])) || (Number.isFinite(b[i]!) && Math.abs(a[i]! - b[i]!) > 1e-4 * (1 + Math.abs(b[i]!)))) differ++;
          }
        t.ok(special > 0 && differ === 0, `${what}: the same outputs as the direct kernels, NaN and infinities included (${special} not finite, ${differ} differ)`);
      };
      const vals = (n: number) => Float32Array.from(hostValues(r, n, 'float32', 'normal'));
      // two groups: a NaN in the second group's channels, after the first group's outputs were written
      const gg = geom(3, 32, 64, 14, 14, 3, 1, 2);
      const xg = vals(3 * 32 * 196);
      xg[(32 + 20) * 196 + 5 * 14 + 6] = NaN;
      nonFinite('a NaN input pixel in the second of two groups', xg, vals(64 * 16 * 9), vals(3 * 64 * 196), gg);
      const nx = 3 * 16 * 196, nw = 32 * 16 * 9, nd = 3 * 32 * 196;
      let xv = vals(nx);
      xv[196 + 5 * 14 + 6] = NaN;
      nonFinite('a NaN input pixel', xv, vals(nw), vals(nd));
      xv = vals(nx);
      xv[2 * 16 * 196 + 3 * 196 + 13] = Infinity;
      xv[2 * 16 * 196 + 3 * 196 + 14] = -Infinity;
      nonFinite('an infinite input pixel beside a negative one', xv, vals(nw), vals(nd));
      const wv = vals(nw);
      wv[5 * 16 * 9 + 7 * 9 + 4] = Infinity;
      nonFinite('an infinite weight', vals(nx), wv, vals(nd));
      const dv = vals(nd);
      dv[32 * 196 + 31 * 196 + 195] = NaN;
      nonFinite('a NaN in the output gradient', vals(nx), vals(nw), dv);
    } finally {
      addon.setConvWinograd(true);
      nb.setThreads(info.threads);
    }
    t.end();
  });

  test('native kernels: batch norm and its input gradient with the channel sums, small planes and large (x̂ streamed), every SIMD path and 1-2 threads', (t) => {
    const r = new Rand(11);
    const info = nb.info();
    const paths = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info.isa) + 1);
    // [n, c, s]: odd sizes; 7×7 planes; 2^20 values with rows of whole cache lines, which stream
    const dims = [{ n: 2, c: 3, s: 5 }, { n: 5, c: 4, s: 49 }, { n: 4, c: 16, s: 16384 }, { n: 3, c: 2, s: 131072 + 16 }];
    let cases = 0;
    try {
      for (const isa of paths)
        for (const threads of [1, 2]) {
          nb.setSimd(isa);
          nb.setThreads(threads);
          for (const d of dims)
            for (const dtype of ['float32', 'float64'] as const) {
              const total = d.n * d.c * d.s, what = `${isa}/${threads}t ${dtype} ${JSON.stringify(d)}`;
              const [xj, xn] = both(r, total, dtype), [gj, gn] = both(r, d.c, dtype), [bj, bn] = both(r, d.c, dtype);
              const a = nb.batchNorm(xn, gn, bn, d, 1e-5), b = js.batchNorm(xj, gj, bj, d, 1e-5);
              const tol = dtype === 'float32' ? [1e-4, 1e-4] : [1e-10, 1e-10];
              let ok = true;
              for (const k of ['y', 'xhat', 'mean', 'variance', 'rstd'] as const) ok = check(t, a[k], b[k], dtype, `batchNorm ${k} ${what}`, tol[0], tol[1]) && ok;
              const [dyj, dyn] = both(r, total, dtype), [wj, wn] = both(r, d.c, dtype);
              const s1 = nb.batchNormBackwardSums(dyn, a.xhat, wn, d), s2 = js.batchNormBackwardSums(dyj, b.xhat, wj, d);
              ok = check(t, s1.dx, s2.dx, dtype, `batchNormBackwardSums dx ${what}`, tol[0], tol[1]) && ok;
              // sums over up to 2^19 values: float32 partial sums, so a looser absolute tolerance
              ok = check(t, s1.sumG, s2.sumG, dtype, `batchNormBackwardSums sumG ${what}`, tol[0], dtype === 'float32' ? 2e-2 : 1e-8) && ok;
              ok = check(t, s1.sumGX, s2.sumGX, dtype, `batchNormBackwardSums sumGX ${what}`, tol[0], dtype === 'float32' ? 2e-2 : 1e-8) && ok;
              ok = check(t, nb.batchNormBackward(dyn, a.xhat, wn, d), s1.dx, dtype, `batchNormBackward = batchNormBackwardSums' dx ${what}`, 0, 0) && ok;
              if (ok) cases++;
            }
        }
    } finally {
      nb.setSimd(info.isa as 'avx512');
      nb.setThreads(info.threads);
    }
    t.equal(cases, paths.length * 2 * dims.length * 2, `every batch-norm case matches on ${paths.join(', ')}`);
    t.end();
  });

  test('native kernels: fused batch norm + ReLU + 2×2 max-pool and its backward against the js composition, every SIMD path and 1-2 threads', (t) => {
    const r = new Rand(12);
    const info = nb.info();
    const paths = (['scalar', 'avx2', 'avx512'] as const).slice(0, ['scalar', 'avx2', 'avx512'].indexOf(info.isa) + 1);
    // [n, c, h, w, kind]: odd sides (a row / column in no window), integer values (ties: the first
    // maximum wins), Conv-4's 14×14, a NaN (its channel all NaN), and 2^20 values (x̂ streamed).
    // Rows of 8 columns or more take AVX-512's plane kernels: 14, 256, and 45 and 40 columns (a
    // row of 22 or 20 windows, one full vector and a part), odd and even, with ties
    const cases: [number, number, number, number, 'normal' | 'int' | 'nan'][] = [
      [2, 3, 4, 5, 'normal'], [3, 2, 5, 5, 'int'], [4, 8, 14, 14, 'normal'], [2, 3, 2, 2, 'nan'], [3, 4, 7, 6, 'int'], [2, 8, 256, 256, 'normal'],
      [2, 3, 9, 45, 'normal'], [3, 2, 16, 40, 'int'], [2, 2, 8, 8, 'nan'],
    ];
    let ok = 0, total = 0;
    try {
      for (const isa of paths)
        for (const threads of [1, 2]) {
          nb.setSimd(isa);
          nb.setThreads(threads);
          for (const [n, c, h, w, kind] of cases)
            for (const dtype of ['float32', 'float64'] as const) {
              total++;
              const d = { n, c, s: h * w }, np = n * c * Math.floor(h / 2) * Math.floor(w / 2), what = `${isa}/${threads}t ${dtype} [${n}, ${c}, ${h}, ${w}] ${kind}`;
              const xv = hostValues(r, n * c * h * w, dtype, kind === 'int' ? 'int' : 'normal');
              if (kind === 'nan') xv[5] = NaN;
              // |γ| ≥ 0.5: distinct integers stay apart in y, so a window's tie is a tie in every
              // rounding (a γ near 0 makes near-ties that float32 and the float64 reference break apart)
              const gv = Array.from({ length: c }, (_, i) => (i % 2 ? -1 : 1) * (0.5 + r.next() * 1.5));
              const [xj, xn] = pair(xv, dtype, nb), [gj, gn] = pair(dtype === 'float64' ? Float64Array.from(gv) : Float32Array.from(gv), dtype, nb), [bj, bn] = both(r, c, dtype);
              const a = nb.batchNormReluMaxPool(xn, gn, bn, d, 1e-5, h, w), b = js.batchNormReluMaxPool(xj, gj, bj, d, 1e-5, h, w);
              const tol = dtype === 'float32' ? 1e-4 : 1e-10;
              let good = check(t, a.indices, b.indices, 'int32', `indices ${what}`);
              for (const k of ['pooled', 'xhat', 'mean', 'variance', 'rstd'] as const) good = check(t, a[k], b[k], dtype, `${k} ${what}`, tol, tol) && good;
              const [gpj, gpn] = both(r, np, dtype), [wj, wn] = both(r, c, dtype);
              const fa = nb.batchNormReluMaxPoolBackward(gpn, a.pooled, a.indices, a.xhat, wn, d, h, w);
              const fb = js.batchNormReluMaxPoolBackward(gpj, b.pooled, b.indices, b.xhat, wj, d, h, w);
              for (const k of ['dx', 'sumG', 'sumGX'] as const) good = check(t, fa[k], fb[k], dtype, `backward ${k} ${what}`, tol, dtype === 'float32' ? 1e-3 : 1e-9) && good;
              if (good) ok++;
            }
        }
    } finally {
      nb.setSimd(info.isa as 'avx512');
      nb.setThreads(info.threads);
    }
    t.equal(ok, total, `every fused batch-norm-pool case matches on ${paths.join(', ')}`);
    // an index outside its plane is refused before anything is written
    const f = (k: number) => nb.upload(new Float32Array(k), 'float32');
    t.throws(() => nb.batchNormReluMaxPoolBackward(f(2), f(2), nb.upload(Int32Array.of(0, 9), 'int32'), f(8), f(2), { n: 1, c: 2, s: 4 }, 2, 2),
      (e: unknown) => e instanceof mg.BackendError && /outside the plane/.test((e as Error).message), 'a bad argmax index');
    t.throws(() => nb.batchNormReluMaxPool(f(8), f(2), f(2), { n: 1, c: 2, s: 4 }, 1e-5, 1, 4), (e: unknown) => e instanceof mg.BackendError && /at least 2x2/.test((e as Error).message), 'a plane under one window');
    // indices inside their plane but outside their window (two windows naming one pixel, one
    // naming another row): scattered and added as the js composition does, on every path
    {
      const n = 2, c = 3, h = 8, w = 10, s = h * w, ohw = (h / 2) * (w / 2), d = { n, c, s };
      const [xj] = both(r, n * c * s, 'float32'), [gj] = both(r, c, 'float32'), [bj] = both(r, c, 'float32');
      const fwd = js.batchNormReluMaxPool(xj, gj, bj, d, 1e-5, h, w);
      const idx = Int32Array.from(read(js, fwd.indices) as ArrayLike<number>);
      const pooled = Float32Array.from({ length: n * c * ohw }, (_, i) => (i % 3 === 2 ? -1 : 1 + i));  // some windows cut by the ReLU
      idx[1] = idx[0]!;
      idx[ohw + 7] = 3 * w + 9;
      idx[2 * ohw + 4] = s - 1;
      const [gpj, gpn] = both(r, n * c * ohw, 'float32'), [wj, wn] = both(r, c, 'float32');
      const xh = read(js, fwd.xhat) as Float32Array;
      const want = js.batchNormReluMaxPoolBackward(gpj, js.upload(pooled, 'float32'), js.upload(idx, 'int32'), fwd.xhat, wj, d, h, w);
      try {
        for (const isa of paths) {
          nb.setSimd(isa);
          const got = nb.batchNormReluMaxPoolBackward(gpn, nb.upload(pooled, 'float32'), nb.upload(idx, 'int32'), nb.upload(xh, 'float32'), wn, d, h, w);
          for (const k of ['dx', 'sumG', 'sumGX'] as const) t.ok(check(t, got[k], want[k], 'float32', `${isa}: indices outside their window, backward ${k}`, 1e-4, 1e-3), `${isa}: indices outside their window scattered and added, ${k}`);
        }
      } finally {
        nb.setSimd(info.isa as 'avx512');
      }
    }
    t.end();
  });

  test('native kernels: maxPool2d, gather, scatterAdd', (t) => {
    const r = new Rand(7);
    for (let rep = 0; rep < 40; rep++) {
      const dtype = r.pick(DTYPES);
      const kh = r.int(1, 3), kw = r.int(1, 3), padH = r.int(0, Math.floor(kh / 2)), padW = r.int(0, Math.floor(kw / 2));
      const strideH = r.int(1, 3), strideW = r.int(1, 3), h = r.int(kh, 9), w = r.int(kw, 9), planes = r.int(1, 5);
      const oh = Math.floor((h + 2 * padH - kh) / strideH) + 1, ow = Math.floor((w + 2 * padW - kw) / strideW) + 1;
      const g = { planes, h, w, kh, kw, oh, ow, strideH, strideW, padH, padW };
      // int values make ties, which must go to the first maximum
      const [xj, xn] = both(r, planes * h * w, dtype, 'int');
      const a = nb.maxPool2d(xn, g), b = js.maxPool2d(xj, g);
      check(t, a.values, b.values, dtype, `maxPool2d values ${JSON.stringify(g)}`);
      check(t, a.indices, b.indices, 'int32', `maxPool2d indices ${JSON.stringify(g)}`);
    }
    // the 2×2 stride-2 fast path (Conv-4's pooling): even and odd sides, ties, and NaN (which
    // beats any number, the first NaN of a window winning, as in the general path and the js reference)
    for (let rep = 0; rep < 24; rep++) {
      const dtype = r.pick(DTYPES);
      const h = r.int(2, 11), w = r.int(2, 11), planes = r.int(1, 4);
      const g = { planes, h, w, kh: 2, kw: 2, oh: Math.floor(h / 2), ow: Math.floor(w / 2), strideH: 2, strideW: 2, padH: 0, padW: 0 };
      const host = hostValues(r, planes * h * w, dtype, 'int');
      if (rep % 3 === 2 && dtype !== 'int32') for (let i = 0; i < host.length; i += 5) host[i] = NaN;
      const [xj, xn] = pair(host, dtype, nb);
      const a = nb.maxPool2d(xn, g), b = js.maxPool2d(xj, g);
      check(t, a.values, b.values, dtype, `maxPool2d 2×2 fast path values ${JSON.stringify(g)}`);
      check(t, a.indices, b.indices, 'int32', `maxPool2d 2×2 fast path indices ${JSON.stringify(g)}`);
    }
    for (let rep = 0; rep < 60; rep++) {
      const dtype = r.pick(DTYPES);
      const xshape = randomShape(r, 4, 5);
      if (xshape.length === 0) xshape.push(3);
      const axis = r.int(0, xshape.length - 1);
      const shape = xshape.slice();
      shape[axis] = r.int(1, 6);
      const sx = randomLayout(r, xshape);
      const [xj, xn] = both(r, sx.size, dtype);
      // indices, possibly broadcast along dims of size 1
      const ishape = shape.map((d, i) => (i !== axis && r.next() < 0.3 ? 1 : d));
      const idx = Int32Array.from({ length: ishape.reduce((p, d) => p * d, 1) }, () => r.int(0, xshape[axis]! - 1));
      const [ij, inn] = pair(idx, 'int32', nb);
      const istr = new Array<number>(ishape.length);
      for (let d = ishape.length - 1, s = 1; d >= 0; d--) { istr[d] = ishape[d] === 1 ? 0 : s; s *= ishape[d]!; }
      const iv = (s: Storage) => ({ storage: s, shape: ishape, strides: istr, offset: 0 });
      check(t, nb.gather(view(xn, sx), iv(inn), axis, shape), js.gather(view(xj, sx), iv(ij), axis, shape), dtype, `gather axis ${axis} ${JSON.stringify([sx, shape])}`);
      const su = randomLayout(r, shape);
      const [uj, un] = both(r, su.size, dtype);
      check(t, nb.scatterAdd(view(un, su), iv(inn), axis, xshape), js.scatterAdd(view(uj, su), iv(ij), axis, xshape), dtype, `scatterAdd axis ${axis}`, 1e-6, 1e-6);
    }
    t.pass('pool and indexing checked');
    t.end();
  });

  test('native kernels: Philox random is bit-identical (uniform, bits) and close (normal)', (t) => {
    const cases: [readonly [number, number], number, number][] = [[[0, 0], 0, 17], [[12345, 0xdeadbeef], 7, 1001], [[0xffffffff, 1], 2 ** 32 - 3, 64], [[3, 4], 2 ** 40 + 5, 33]];
    for (const [key, counter, size] of cases) {
      for (const dtype of ['float32', 'float64'] as DType[]) {
        t.deepEqual(Array.from(read(nb, nb.random('uniform', key, counter, size, dtype))), Array.from(read(js, js.random('uniform', key, counter, size, dtype))), `uniform ${dtype} key ${key} counter ${counter}`);
        t.equal(close(read(nb, nb.random('normal', key, counter, size, dtype)), read(js, js.random('normal', key, counter, size, dtype)), dtype, 1e-6, 1e-6), null, `normal ${dtype} counter ${counter}`);
      }
      t.deepEqual(Array.from(read(nb, nb.random('bits', key, counter, size, 'int32'))), Array.from(read(js, js.random('bits', key, counter, size, 'int32'))), `bits key ${key}`);
    }
    t.end();
  });

  test('native kernels: malformed arguments throw BackendError, never crash', (t) => {
    const s = nb.upload(Float32Array.from([1, 2, 3, 4]), 'float32');
    const bad: [string, () => unknown][] = [
      ['view past the end', () => nb.unary('exp', { storage: s, shape: [5], strides: [1], offset: 0 }, 'float32')],
      ['negative offset', () => nb.unary('exp', { storage: s, shape: [2], strides: [1], offset: -1 }, 'float32')],
      ['stride past the end', () => nb.binary('add', { storage: s, shape: [2, 2], strides: [3, 1], offset: 0 }, { storage: s, shape: [2, 2], strides: [2, 1], offset: 0 }, [2, 2], 'float32')],
      ['huge stride', () => nb.unary('neg', { storage: s, shape: [2], strides: [2 ** 60], offset: 0 }, 'float32')],
      ['NaN shape', () => nb.cast({ storage: s, shape: [NaN], strides: [1], offset: 0 }, 'int32')],
      ['rank 20', () => nb.unary('neg', { storage: s, shape: new Array(20).fill(1), strides: new Array(20).fill(0), offset: 0 }, 'float32')],
      ['reduce axis out of range', () => nb.reduce('sum', { storage: s, shape: [4], strides: [1], offset: 0 }, [3])],
      ['matmul too large for a', () => nb.matmul({ storage: s, offset: 0, batchStride: 0, rowStride: 2, colStride: 1 }, { storage: s, offset: 0, batchStride: 0, rowStride: 2, colStride: 1 }, { batch: 1, m: 3, n: 2, k: 2 }, 'float32')],
      ['conv geometry inconsistent', () => nb.conv2d(s, s, { n: 1, cIn: 1, h: 2, w: 2, cOut: 1, kh: 1, kw: 1, oh: 5, ow: 5, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1 })],
      ['conv wrong buffer size', () => nb.conv2d(s, s, { n: 1, cIn: 1, h: 3, w: 3, cOut: 1, kh: 1, kw: 1, oh: 3, ow: 3, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1 })],
      ['conv groups', () => nb.conv2d(s, s, { n: 1, cIn: 1, h: 2, w: 2, cOut: 1, kh: 1, kw: 1, oh: 2, ow: 2, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 0 })],
      ['pool size mismatch', () => nb.maxPool2d(s, { planes: 2, h: 2, w: 2, kh: 1, kw: 1, oh: 2, ow: 2, strideH: 1, strideW: 1, padH: 0, padW: 0 })],
      ['gather index out of range', () => nb.gather({ storage: s, shape: [4], strides: [1], offset: 0 }, { storage: nb.upload(Int32Array.from([9]), 'int32'), shape: [1], strides: [1], offset: 0 }, 0, [1])],
      ['gather float indices', () => nb.gather({ storage: s, shape: [4], strides: [1], offset: 0 }, { storage: s, shape: [1], strides: [1], offset: 0 }, 0, [1])],
      ['scatterAdd negative index', () => nb.scatterAdd({ storage: s, shape: [1], strides: [1], offset: 0 }, { storage: nb.upload(Int32Array.from([-1]), 'int32'), shape: [1], strides: [1], offset: 0 }, 0, [4])],
      ['fill negative size', () => nb.fill(-1, 0, 'float32')],
      ['random huge size', () => nb.random('uniform', [1, 2], 0, 2 ** 52, 'float32')],
      ['random negative counter', () => nb.random('uniform', [1, 2], -1, 4, 'float32')],
      ['storage of another backend', () => nb.unary('neg', { storage: js.upload(Float32Array.from([1]), 'float32'), shape: [1], strides: [1], offset: 0 }, 'float32')],
      ['unknown op', () => nb.unary('nope' as UnaryOp, { storage: s, shape: [1], strides: [1], offset: 0 }, 'float32')],
      ['softmax rows*cols mismatch', () => nb.softmax({ storage: s, shape: [4], strides: [1], offset: 0 }, 3, 3, false)],
    ];
    for (const [what, fn] of bad) {
      try {
        fn();
        t.fail(`${what}: did not throw`);
      } catch (e) {
        t.ok(e instanceof mg.BackendError, `${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    t.end();
  });
}
