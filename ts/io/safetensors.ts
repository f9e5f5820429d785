// safetensors (Hugging Face's format, also PyTorch's common checkpoint format):
//   8 bytes  N, little-endian uint64: the header's length
//   N bytes  UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, ..., "__metadata__": { str: str } }
//            (padded with spaces; we pad to a multiple of 8 as the reference writer does)
//   rest     the tensors' bytes, little-endian, row-major; offsets relative to this part
// Loading validates everything before making a tensor: any damage is a DataError and
// nothing partial is ever returned. Bytes in, bytes out (browser-safe); safetensors-file.ts
// reads and writes files (atomically: a temporary file, then rename).

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { DataError, fmtShape } from '../core/errors.js';
import { resolveBackend, tensor } from '../tensor/create.js';
import type { DType } from '../core/dtype.js';
import { describe, numel } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { fromBFloat16Bits, fromHalfBits, toHalfBits } from '../core/half.js';
import { rememberHostScalar } from '../tensor/host-scalars.js';

/** The reference implementation's limit on the header (100 MB). */
const MAX_HEADER = 100_000_000;

const SAVE_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', float16: 'F16' };
/** Bytes per element of every safetensors dtype we can read. */
const FILE_DTYPES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function leafEntries(tensors: ParamTree | Record<string, Tensor>, fn: string): { names: string[]; leaves: Tensor[] } {
  let flat;
  try {
    flat = treeFlatten(tensors as ParamTree, '', fn);
  } catch (e) {
    throw new DataError((e as Error).message);
  }
  const seen = new Set<string>();
  for (const n of flat.names) {
    if (n === '__metadata__' || n === '') throw new DataError(`${fn}: '${n}' cannot be a tensor name`);
    if (seen.has(n)) throw new DataError(`${fn}: two tensors would both be named '${n}'`);
    seen.add(n);
  }
  return flat;
}

/** The bytes of a safetensors file (exported for tests and for writing elsewhere). */
export function encodeSafetensors(tensors: ParamTree | Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  return encodeAs('encodeSafetensors', tensors, metadata);
}

/** @internal encodeSafetensors with the caller (saveSafetensors) named in its errors. */
export async function encodeAs(fn: string, tensors: ParamTree | Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const { names, leaves } = leafEntries(tensors, fn);
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object') throw new DataError(`${fn}: metadata must be an object of strings`);
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new DataError(`${fn}: metadata '${k}' must be a string, got ${typeof v}`);
  }
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < leaves.length; i++) {
    const t = leaves[i]!;
    const values = await t.data(); // logical row-major order, any backend
    let bytes: Uint8Array;
    if (t.dtype === 'float16') {
      const h = new Uint16Array(values.length);
      for (let k = 0; k < values.length; k++) h[k] = toHalfBits(values[k]!);
      bytes = new Uint8Array(h.buffer);
    } else {
      bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    }
    header[names[i]!] = { dtype: SAVE_DTYPE[t.dtype], shape: t.shape.slice(), data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  if (hb.length % 8 !== 0) {
    json += ' '.repeat(8 - (hb.length % 8));
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parse and fully validate a header; returns entries sorted by offset. */
export function parseSafetensorsHeader(buf: Uint8Array, where = 'safetensors'): ParsedHeader {
  return parseHeaderAs('parseSafetensorsHeader', buf, where);
}

type ParsedHeader = { entries: [string, SafetensorsEntry][]; metadata: Record<string, string>; dataStart: number };

/** @internal parseSafetensorsHeader with the caller named in its errors (`where`: the file). */
export function parseHeaderAs(who: string, buf: Uint8Array, where: string): ParsedHeader {
  const bad = (why: string): never => {
    throw new DataError(`${who}: ${where}: ${why}`);
  };
  if (!(buf instanceof Uint8Array)) bad(`expected the file's bytes as a Uint8Array, got ${describe(buf)}`);
  if (buf.length < 8) bad(`file is ${buf.length} bytes, too short for the 8-byte header length`);
  const n64 = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true);
  if (n64 < 2n || n64 > BigInt(MAX_HEADER)) bad(`header length ${n64} is out of range (2..${MAX_HEADER})`);
  const n = Number(n64);
  if (8 + n > buf.length) bad(`header length ${n} runs past the end of the file (${buf.length} bytes): truncated?`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n));
  } catch {
    return bad('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) bad(`header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return bad(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('header is not a JSON object');
  const dataLength = buf.length - 8 - n;
  // Names come from the file: null-prototype records, so a tensor or key named
  // '__proto__' (or 'constructor') is just a name, never the record's prototype.
  const metadata: Record<string, string> = Object.create(null);
  const entries: [string, SafetensorsEntry][] = [];
  for (const [name, e] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (e === null || typeof e !== 'object' || Array.isArray(e)) bad('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(e as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const ent = e as Partial<SafetensorsEntry> | null;
    if (ent === null || typeof ent !== 'object') return bad(`entry '${name}' is not an object`);
    const size = typeof ent.dtype === 'string' ? FILE_DTYPES[ent.dtype] : undefined;
    if (size === undefined) bad(`tensor '${name}': unsupported dtype ${JSON.stringify(ent.dtype)} (readable: ${Object.keys(FILE_DTYPES).join(', ')})`);
    if (!Array.isArray(ent.shape) || !ent.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`tensor '${name}': shape ${JSON.stringify(ent.shape)} is not a list of non-negative integers`);
    const off = ent.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0]! > off[1]!) {
      bad(`tensor '${name}': data_offsets ${JSON.stringify(off)} must be [begin, end] with 0 <= begin <= end`);
    }
    const count = ent.shape!.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count * size!) || off![1]! - off![0]! !== count * size!) {
      bad(`tensor '${name}': ${ent.dtype} ${fmtShape(ent.shape!)} needs ${count * size!} bytes, data_offsets give ${off![1]! - off![0]!}`);
    }
    if (off![1]! > dataLength) bad(`tensor '${name}': data_offsets end ${off![1]} is past the data (${dataLength} bytes): truncated?`);
    entries.push([name, { dtype: ent.dtype!, shape: ent.shape!.slice(), data_offsets: [off![0]!, off![1]!] }]);
  }
  // The data must be exactly covered, with no holes and no overlaps (as the reference reader checks).
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1]);
  let end = 0;
  for (const [name, e] of entries) {
    if (e.data_offsets[0] !== end) bad(`tensor '${name}' starts at byte ${e.data_offsets[0]}, expected ${end} (${e.data_offsets[0] > end ? 'a hole' : 'overlapping tensors'})`);
    end = e.data_offsets[1];
  }
  if (end !== dataLength) bad(`tensors cover ${end} bytes but the data part has ${dataLength}: ${end < dataLength ? 'trailing bytes' : 'truncated'}`);
  return { entries, metadata, dataStart: 8 + n };
}

/** Values of one entry as (dtype, host array), widening the file dtypes metagrad lacks. */
function decodeEntry(buf: Uint8Array, start: number, e: SafetensorsEntry, name: string, f16: boolean, who: string): { dtype: DType; values: Float32Array | Float64Array | Int32Array } {
  const [b, end] = e.data_offsets;
  // a copy, aligned, so typed views are safe and the tensor never aliases the file buffer
  const raw = buf.slice(start + b, start + end);
  const dv = new DataView(raw.buffer);
  const n = numel(e.shape);
  switch (e.dtype) {
    case 'F32': return { dtype: 'float32', values: new Float32Array(raw.buffer, 0, n) };
    case 'F64': return { dtype: 'float64', values: new Float64Array(raw.buffer, 0, n) };
    case 'I32': return { dtype: 'int32', values: new Int32Array(raw.buffer, 0, n) };
    case 'F16': {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = fromHalfBits(dv.getUint16(2 * i, true));
      return { dtype: f16 ? 'float16' : 'float32', values: v };
    }
    case 'BF16': {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = fromBFloat16Bits(dv.getUint16(2 * i, true));
      return { dtype: 'float32', values: v };
    }
    default: {
      const v = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let x: number;
        switch (e.dtype) {
          case 'I64': {
            const big = dv.getBigInt64(8 * i, true);
            if (big > 2147483647n || big < -2147483648n) throw new DataError(`${who}: tensor '${name}': I64 value ${big} at ${i} does not fit int32`);
            x = Number(big);
            break;
          }
          case 'I16': x = dv.getInt16(2 * i, true); break;
          case 'I8': x = dv.getInt8(i); break;
          case 'U8': x = dv.getUint8(i); break;
          default: x = dv.getUint8(i) ? 1 : 0; break; // BOOL
        }
        v[i] = x;
      }
      return { dtype: 'int32', values: v };
    }
  }
}

/**
 * Tensors from safetensors bytes. F32/F64/I32 load as float32/float64/int32; F16 as float16
 * where the backend has it, else float32; BF16 as float32; I64/I16/I8/U8/BOOL as int32
 * (I64 values outside int32 are a DataError).
 */
export function decodeSafetensors(input: Uint8Array | ArrayBuffer, opts: { backend?: BackendName | Backend } = {}, where = 'safetensors'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  return decodeAs('decodeSafetensors', input, opts, where);
}

/** @internal decodeSafetensors with the caller (loadSafetensors) named in its errors. */
export function decodeAs(who: string, input: Uint8Array | ArrayBuffer, opts: { backend?: BackendName | Backend } = {}, where = 'safetensors'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const buf = input instanceof Uint8Array ? input : new Uint8Array(input);
  const { entries, metadata, dataStart } = parseHeaderAs(who, buf, where);
  const backend = resolveBackend(opts.backend, who);
  const f16 = backend.supportsDType('float16');
  // Decode everything before creating any tensor, so a failure leaves nothing behind.
  const decoded = entries.map(([name, e]) => ({ name, shape: e.shape, ...decodeEntry(buf, dataStart, e, name, f16, who) }));
  const tensors: Record<string, Tensor> = Object.create(null);
  for (const d of decoded) {
    const t = (tensors[d.name] = tensor(d.values, d.shape, { dtype: d.dtype, backend }));
    if (d.dtype === 'int32' && d.values.length === 1) rememberHostScalar(t, d.values[0]!);
  }
  return { tensors, metadata };
}
