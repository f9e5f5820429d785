// safetensors: bit-exact round trips, a file laid out by hand, damaged files -> DataError.
import test from 'tape';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mg from '../../ts/index.js';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, loadTree, saveSafetensors } from '../../ts/io/index.js';
import { conv4 } from '../../ts/nn/index.js';
import { adam } from '../../ts/optim/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-st-'));
const bits = (t: mg.Tensor) => {
  const d = t.dataSync();
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
};

test('safetensors: round trip is bit-exact (f32, f64, i32, scalars, empty, strided views, metadata)', async (t) => {
  const special = new Float32Array([0, -0, 1.5, -3.25e-39, 3.4028234663852886e38, Infinity, -Infinity, NaN, 1e-45, Math.PI]);
  const tree = {
    a: mg.tensor(special),
    b: { c: mg.tensor(new Float64Array([Math.E, -0, 5e-324, Number.MAX_VALUE]), [2, 2], { dtype: 'float64' }), d: [mg.tensor([[1, -2147483648], [2147483647, 0]], { dtype: 'int32' })] },
    s: mg.scalar(7, { dtype: 'int32' }),
    e: mg.zeros([0, 3]),
    v: mg.transpose(mg.tensor([[1, 2, 3], [4, 5, 6]])),
  };
  const path = join(dir, 'tree.safetensors');
  await saveSafetensors(path, tree, { format: 'pt', note: 'ünïcødé' });
  t.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');
  const { tensors, metadata } = await loadSafetensors(path);
  t.deepEqual(Object.keys(tensors).sort(), ['a', 'b.c', 'b.d.0', 'e', 's', 'v']);
  t.deepEqual({ ...metadata }, { format: 'pt', note: 'ünïcødé' }, 'metadata');
  t.deepEqual(bits(tensors.a!), bits(tree.a), 'float32 bits (±0, denormals, ±inf, NaN)');
  t.deepEqual(bits(tensors['b.c']!), bits(tree.b.c), 'float64 bits');
  t.deepEqual([tensors['b.d.0']!.dtype, Array.from(tensors['b.d.0']!.dataSync())], ['int32', [1, -2147483648, 2147483647, 0]], 'int32');
  t.deepEqual([tensors.s!.shape, tensors.s!.itemSync()], [[], 7], 'scalar');
  t.deepEqual(tensors.e!.shape, [0, 3], 'empty tensor');
  t.deepEqual([tensors.v!.shape, Array.from(tensors.v!.dataSync())], [[3, 2], [1, 4, 2, 5, 3, 6]], 'a transposed view saves in logical order');
  const back = loadTree(tree, tensors);
  t.deepEqual(mg.treeFlatten(back).names, mg.treeFlatten(tree).names, 'loadTree rebuilds the structure');
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  t.equal(n % 8, 0, 'header padded to 8 bytes');
  t.deepEqual(Array.from(await encodeSafetensors(tree, { format: 'pt', note: 'ünïcødé' })), Array.from(bytes), 'deterministic bytes');
});

test('safetensors: a file laid out by hand from the specification loads', (t) => {
  // {"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"i":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},
  //  "h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"__metadata__":{"k":"v"}} then the bytes
  const header = '{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"i":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]}}';
  const hb = Buffer.from(header, 'utf8');
  const data = Buffer.alloc(22);
  data.writeFloatLE(1.5, 0);
  data.writeFloatLE(-2, 4);
  data.writeBigInt64LE(-42n, 8);
  data.writeUInt16LE(0x3c00, 16); // 1.0 in binary16
  data.writeUInt16LE(0xc000, 18); // -2.0
  data.writeUInt16LE(0x4049, 20); // bfloat16 ~3.140625
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const file = Buffer.concat([len, hb, data]);
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(file));
  t.deepEqual({ ...metadata }, { k: 'v' });
  t.deepEqual(Array.from(tensors.w!.dataSync()), [1.5, -2], 'F32');
  t.deepEqual([tensors.i!.dtype, tensors.i!.itemSync()], ['int32', -42], 'I64 widened to int32');
  t.deepEqual([tensors.h!.dtype, Array.from(tensors.h!.dataSync())], ['float32', [1, -2]], 'F16 (as float32 on js)');
  t.equal(tensors.b!.itemSync(), 3.140625, 'BF16');
  t.end();
});

test('safetensors: names from the file never touch a prototype (__proto__, constructor)', (t) => {
  const header = '{"__metadata__":{"__proto__":"m","toString":"s"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"constructor":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
  const hb = Buffer.from(header, 'utf8');
  const data = Buffer.alloc(8);
  data.writeFloatLE(7, 0);
  data.writeFloatLE(9, 4);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(Buffer.concat([len, hb, data])));
  t.deepEqual(Object.keys(tensors).sort(), ['__proto__', 'constructor'], 'both tensors are there, as names');
  t.ok(Object.getPrototypeOf(tensors) === null, 'the result has no prototype to replace');
  t.ok(tensors['__proto__'] instanceof mg.Tensor && tensors['__proto__'].itemSync() === 7, "the tensor named '__proto__' loads");
  t.equal(tensors['constructor']!.itemSync(), 9, "the tensor named 'constructor' loads");
  t.deepEqual([metadata['__proto__'], metadata['toString']], ['m', 's'], 'metadata keys are plain names too');
  const tree = loadTree({ constructor: mg.zeros([1]) }, tensors);
  t.equal(tree.constructor.itemSync(), 9, 'loadTree finds it by name');
  t.throws(() => loadTree({ toString: mg.zeros([1]) }, tensors), mg.DataError, 'a name absent from the file is missing, not inherited');
  t.end();
});

test('safetensors: truncated, fuzzed and inconsistent files are DataErrors', async (t) => {
  const good = await encodeSafetensors({ w: mg.tensor([[1, 2, 3], [4, 5, 6]]), b: mg.tensor([7, 8], { dtype: 'int32' }) }, { x: 'y' });
  const throwsData = (buf: Uint8Array, what: string) => {
    try {
      decodeSafetensors(buf);
      return false;
    } catch (e) {
      if (!(e instanceof mg.DataError)) t.fail(`${what}: threw ${(e as Error).name}: ${(e as Error).message}`);
      return e instanceof mg.DataError;
    }
  };
  // every truncation
  let allTrunc = true;
  for (let n = 0; n < good.length; n++) allTrunc &&= throwsData(good.slice(0, n), `truncated to ${n}`);
  t.ok(allTrunc, `all ${good.length} truncations give DataError`);
  t.ok(throwsData(new Uint8Array([...good, 0]), 'trailing byte'), 'trailing bytes');
  // header length fields: huge, zero, past the end
  const withLen = (n: bigint) => { const c = good.slice(); new DataView(c.buffer).setBigUint64(0, n, true); return c; };
  t.ok(throwsData(withLen(2n ** 63n), 'huge') && throwsData(withLen(0n), 'zero') && throwsData(withLen(BigInt(good.length)), 'past end'), 'bad header lengths');
  // hand-made inconsistent headers
  const mk = (h: string, dataLen: number) => {
    const hb = Buffer.from(h);
    const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(hb.length));
    return new Uint8Array(Buffer.concat([len, hb, Buffer.alloc(dataLen)]));
  };
  const cases: [string, number, string][] = [
    ['[1,2]', 0, 'not an object'],
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4, 'size mismatch'],
    ['{"a":{"dtype":"X9","shape":[1],"data_offsets":[0,4]}}', 4, 'unknown dtype'],
    ['{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4, 'negative dim'],
    ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', 4, 'reversed offsets'],
    ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4, 'overlap'],
    ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8, 'hole'],
    ['{"a":{"dtype":"F32","shape":[1]}}', 4, 'no offsets'],
    ['{"__metadata__":{"k":1}}', 0, 'non-string metadata'],
    ['{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', 0, 'truncated data'],
    ['{"a": null}', 0, 'null entry'],
    ['{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', 4, 'infinite dim'],
  ];
  for (const [h, n, what] of cases) t.ok(throwsData(mk(h, n), what), `DataError: ${what}`);
  const i64 = Buffer.alloc(8); i64.writeBigInt64LE(2n ** 40n);
  const hb = Buffer.from('{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}');
  const l = Buffer.alloc(8); l.writeBigUInt64LE(BigInt(hb.length));
  t.ok(throwsData(new Uint8Array(Buffer.concat([l, hb, i64])), 'i64 overflow'), 'I64 beyond int32');
  // random byte flips in the header: DataError or a valid load, never another exception
  const rng = new mg.Rng(99);
  const hlen = Number(new DataView(good.buffer).getBigUint64(0, true));
  let clean = true, errors = 0;
  const live0 = mg.liveTensorCount();
  for (let k = 0; k < 500; k++) {
    const c = good.slice();
    const flips = 1 + rng.nextInt(3);
    for (let f = 0; f < flips; f++) c[rng.nextInt(8 + hlen)] = rng.nextInt(256);
    try {
      const r = decodeSafetensors(c);
      mg.disposeAll(r.tensors);
    } catch (e) {
      if (e instanceof mg.DataError) errors++;
      else { clean = false; t.comment(`fuzz: ${(e as Error).name}: ${(e as Error).message}`); }
    }
  }
  t.ok(clean, `500 fuzzed headers: ${errors} DataErrors, no other exceptions`);
  t.equal(mg.liveTensorCount(), live0, 'failed loads leave no tensors behind');
  try {
    await loadSafetensors(join(dir, 'missing.safetensors'));
    t.fail('missing file');
  } catch (e) {
    t.ok(e instanceof mg.DataError, 'missing file is a DataError');
  }
  writeFileSync(join(dir, 'cut.safetensors'), good.slice(0, good.length - 3));
  try {
    await loadSafetensors(join(dir, 'cut.safetensors'));
    t.fail('cut file');
  } catch (e) {
    t.ok(e instanceof mg.DataError && /truncated/.test((e as Error).message), `truncated file: ${(e as Error).message}`);
  }
});

test('checkpoints: model params and optimizer state save, load and resume exactly', async (t) => {
  const rng = new mg.Rng(5);
  const model = conv4({ imageSize: 16, outputs: 3, hidden: 4 });
  let params = model.init(rng);
  const opt = adam({ lr: 0.01 });
  let state = opt.init(params);
  const x = rng.normal([6, 1, 16, 16]), y = mg.tensor([0, 1, 2, 0, 1, 2], { dtype: 'int32' });
  const step = (p: typeof params, s: mg.ParamTree) => {
    const g = mg.grad((q: typeof params) => mg.crossEntropy(model.apply(q, x), y))(p);
    return opt.update(p, g, s);
  };
  ({ params, state } = step(params, state));
  const path = join(dir, 'ckpt.safetensors');
  await saveSafetensors(path, { params, opt: state }, { step: '1' });
  const cont = step(params, state);
  const { tensors, metadata } = await loadSafetensors(path);
  t.equal(metadata.step, '1');
  const p2 = loadTree(model.init(new mg.Rng(0)), tensors, 'params');
  const s2 = loadTree(opt.init(p2), tensors, 'opt');
  const resumed = step(p2, s2);
  const a = mg.treeFlatten(cont.params).leaves, b = mg.treeFlatten(resumed.params).leaves;
  t.ok(a.every((l, i) => bits(l).join() === bits(b[i]!).join()), 'resumed step is bit-identical to the uninterrupted one');
  t.throws(() => loadTree(conv4({ imageSize: 16, outputs: 4, hidden: 4 }).init(rng), tensors, 'params'), /params\.head\.b.*shape \[3\]/, 'shape mismatch names the tensor');
  t.throws(() => loadTree({ extra: mg.zeros([1]) }, tensors), mg.DataError, 'missing tensor is a DataError');
  t.throws(() => loadTree(p2, tensors, 'opt'), mg.DataError, 'wrong prefix is a DataError');
  rmSync(dir, { recursive: true, force: true });
});
