// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11),
// the counter-based generator every backend implements bit for bit. A request for `size`
// values starting at block `counter` uses, for element i:
//   block = counter + floor(i / 4); ctr = (block mod 2^32, floor(block / 2^32), 0, 0)
//   word  = philox(key, ctr)[i mod 4]
// uniform: (word >>> 8) * 2^-24, in [0, 1), exactly representable in float32.
// normal:  Box-Muller on the pair of words (2p, 2p+1) of the same block, p = (i mod 4) >> 1:
//   u1 = ((w[2p] >>> 8) + 1) * 2^-24 in (0, 1], u2 = (w[2p+1] >>> 8) * 2^-24,
//   r = sqrt(-2 ln u1); even i: r cos(2 pi u2), odd i: r sin(2 pi u2).
// Backends agree exactly on uniform and bits; normals agree to float rounding of log/cos/sin.

import { ValueError } from './errors.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32, using only exact 32-bit pieces. */
export function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: writes 4 uint32 words into out[at..at+3]. */
export function philoxBlock(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array | number[], at = 0): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi32(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[at] = c0; out[at + 1] = c1; out[at + 2] = c2; out[at + 3] = c3;
}

const TWO_NEG_24 = 1 / 16777216;

/** The reference implementation of Backend.random, on the host. */
export function philoxFill(kind: 'uniform' | 'normal' | 'bits', key: readonly [number, number], counter: number, out: Float32Array | Float64Array | Int32Array): void {
  if (kind !== 'uniform' && kind !== 'normal' && kind !== 'bits') throw new ValueError(`philoxFill: kind must be 'uniform', 'normal' or 'bits', got ${String(kind)}`);
  if (!Array.isArray(key) || key.length !== 2 || !Number.isInteger(counter) || !ArrayBuffer.isView(out)) {
    throw new ValueError('philoxFill: expected (kind, key [k0, k1], integer counter, a Float32Array, Float64Array or Int32Array)');
  }
  const words = new Uint32Array(4);
  const size = out.length;
  for (let base = 0; base < size; base += 4) {
    const block = counter + base / 4;
    philoxBlock(key[0], key[1], block >>> 0, Math.floor(block / 4294967296) >>> 0, 0, 0, words);
    for (let j = 0; j < 4 && base + j < size; j++) {
      const i = base + j;
      if (kind === 'bits') out[i] = words[j]! | 0;
      else if (kind === 'uniform') out[i] = (words[j]! >>> 8) * TWO_NEG_24;
      else {
        const p = j >> 1;
        const u1 = ((words[2 * p]! >>> 8) + 1) * TWO_NEG_24;
        const u2 = (words[2 * p + 1]! >>> 8) * TWO_NEG_24;
        const r = Math.sqrt(-2 * Math.log(u1));
        out[i] = (j & 1) === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
      }
    }
  }
}
