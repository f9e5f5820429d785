// A PNG decoder in plain TypeScript over fflate's zlib (no Node streams, so it runs in a
// browser): every colour type and bit depth of the standard, non-interlaced (Adam7 images
// are refused with a DataError), CRCs of the header and data chunks checked. Output is
// 8 bits per channel (16-bit samples keep their high byte), palette images expanded to RGB
// (RGBA when the palette has transparency).

import { unzlibSync } from 'fflate';
import { DataError } from '../core/errors.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
  channels: 1 | 2 | 3 | 4;
  /** row-major, channels interleaved: data[(y·width + x)·channels + c] */
  data: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array, from: number, to: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decode a PNG file's bytes; `where` names it in errors. */
export function decodePng(input: Uint8Array | ArrayBuffer, where = 'PNG'): DecodedImage {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const bad = (why: string) => new DataError(`decodePng: ${where}: ${why}`);
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw bad('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, depth = 0, colour = -1, interlace = 0;
  let palette: Uint8Array | undefined, alphaPalette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let at = 8, ended = false;
  while (at + 12 <= bytes.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + len > bytes.length) throw bad(`chunk ${type} runs past the end of the file`);
    const body = bytes.subarray(at + 8, at + 8 + len);
    if (crc32(bytes, at + 4, at + 8 + len) !== view.getUint32(at + 8 + len)) throw bad(`chunk ${type} fails its CRC (damaged file)`);
    if (type === 'IHDR') {
      if (len !== 13) throw bad('IHDR has the wrong length');
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      depth = body[8]!;
      colour = body[9]!;
      interlace = body[12]!;
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') alphaPalette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    at += 12 + len;
  }
  if (colour < 0) throw bad('no IHDR chunk');
  if (!ended) throw bad('truncated (no IEND chunk)');
  if (!(colour in CHANNELS) || !DEPTHS[colour]!.includes(depth)) throw bad(`unsupported colour type ${colour} with bit depth ${depth}`);
  if (interlace !== 0) throw bad('interlaced (Adam7) PNGs are not supported; re-save it without interlacing');
  if (width === 0 || height === 0) throw bad(`empty image ${width}×${height}`);
  if (colour === 3 && !palette) throw bad('palette image without a PLTE chunk');
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of idat) {
    joined.set(c, off);
    off += c.length;
  }
  let raw: Uint8Array;
  try {
    raw = unzlibSync(joined);
  } catch (e) {
    throw bad(`cannot inflate the image data: ${(e as Error).message}`);
  }
  const samples = CHANNELS[colour]!;
  const bpp = Math.max(1, (samples * depth) >> 3); // bytes per pixel for the filters
  const stride = Math.ceil((width * samples * depth) / 8);
  if (raw.length < height * (stride + 1)) throw bad(`image data too short: ${raw.length} bytes for ${width}×${height}`);
  // Undo the per-row filters in place.
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1, dst = y * stride, up = dst - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i]!;
      const a = i >= bpp ? rows[dst + i - bpp]! : 0;
      const b = y > 0 ? rows[up + i]! : 0;
      const c = y > 0 && i >= bpp ? rows[up + i - bpp]! : 0;
      let v: number;
      if (filter === 0) v = x;
      else if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else if (filter === 4) v = x + paeth(a, b, c);
      else throw bad(`row ${y} has unknown filter type ${filter}`);
      rows[dst + i] = v & 0xff;
    }
  }
  // Unpack samples to 8 bits.
  const sampleAt = (y: number, k: number): number => {
    if (depth === 8) return rows[y * stride + k]!;
    if (depth === 16) return rows[y * stride + 2 * k]!;
    const bit = k * depth, byte = rows[y * stride + (bit >> 3)]!;
    return (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
  };
  if (colour === 3) {
    const outCh = alphaPalette ? 4 : 3;
    const data = new Uint8Array(width * height * outCh);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const idx = sampleAt(y, x);
        if (3 * idx + 2 >= palette!.length) throw bad(`palette index ${idx} out of range (${palette!.length / 3} entries)`);
        const o = (y * width + x) * outCh;
        data[o] = palette![3 * idx]!;
        data[o + 1] = palette![3 * idx + 1]!;
        data[o + 2] = palette![3 * idx + 2]!;
        if (outCh === 4) data[o + 3] = idx < alphaPalette!.length ? alphaPalette![idx]! : 255;
      }
    }
    return { width, height, channels: outCh, data };
  }
  const scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  const data = new Uint8Array(width * height * samples);
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < width * samples; k++) data[y * width * samples + k] = Math.round(sampleAt(y, k) * scale);
  }
  return { width, height, channels: samples, data };
}
