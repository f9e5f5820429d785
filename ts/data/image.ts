// Host-side image helpers for the data pipeline: area (box) resampling and 90° rotations.

import { array, bytes, checkArgs, int, numbers, optional } from '../core/args.js';
import { ValueError } from '../core/errors.js';
import { describe } from '../core/shape.js';

/**
 * Weights of an area (box) filter from `n` input pixels to `m` output pixels: output pixel
 * i averages the input interval [i·n/m, (i+1)·n/m), partial pixels weighted by overlap.
 * Returned as m rows of (start index, weights).
 */
export function areaWeights(n: number, m: number): { start: number; w: Float64Array }[] {
  checkArgs('areaWeights', [n, m], { n: int(1), m: int(1) });
  const scale = n / m;
  const rows = [];
  for (let i = 0; i < m; i++) {
    const a = i * scale, b = (i + 1) * scale;
    const start = Math.floor(a), end = Math.min(n, Math.ceil(b));
    const w = new Float64Array(end - start);
    for (let k = start; k < end; k++) w[k - start] = (Math.min(b, k + 1) - Math.max(a, k)) / scale;
    rows.push({ start, w });
  }
  return rows;
}

/** Separable area resize of a square single-channel image (values as given) n×n -> m×m. */
export function resizeArea(src: Float64Array | Float32Array, n: number, m: number, weights?: { start: number; w: Float64Array }[]): Float64Array {
  checkArgs('resizeArea', [src, n, m, weights], { src: numbers, n: int(1), m: int(1), weights: optional(array()) });
  if (src.length !== n * n) throw new ValueError(`resizeArea: src has ${src.length} values, a ${n}×${n} image has ${n * n}`);
  if (weights === undefined) weights = areaWeights(n, m);
  else if (weights.length !== m) throw new ValueError(`resizeArea: weights has ${weights.length} rows, resizing to ${m} needs ${m} (areaWeights(${n}, ${m}))`);
  const tmp = new Float64Array(m * n); // rows resized: [m, n]
  for (let i = 0; i < m; i++) {
    const { start, w } = weights[i]!;
    for (let k = 0; k < w.length; k++) {
      const wk = w[k]!, row = (start + k) * n;
      for (let x = 0; x < n; x++) tmp[i * n + x] += wk * src[row + x]!;
    }
  }
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const { start, w } = weights[j]!;
      let s = 0;
      for (let k = 0; k < w.length; k++) s += w[k]! * tmp[i * n + start + k]!;
      out[i * m + j] = s;
    }
  }
  return out;
}

/**
 * Rotate a square s×s image counter-clockwise by `quarter`·90° (PIL's Image.rotate
 * direction, as the ProtoNets split's rot090/rot180/rot270) and write it to out at `at`,
 * mapping byte values to floats in [0, 1].
 */
export function rotateInto(src: Uint8Array, s: number, quarter: number, out: Float32Array, at: number): void {
  const q = ((quarter % 4) + 4) % 4;
  for (let i = 0; i < s; i++) {
    for (let j = 0; j < s; j++) {
      let v: number;
      switch (q) {
        case 0: v = src[i * s + j]!; break;
        case 1: v = src[j * s + (s - 1 - i)]!; break;
        case 2: v = src[(s - 1 - i) * s + (s - 1 - j)]!; break;
        default: v = src[(s - 1 - j) * s + i]!; break;
      }
      out[at + i * s + j] = v / 255;
    }
  }
}

/**
 * Area-resize an interleaved H×W×C byte image (any H, W) to a planar C'×S×S byte image:
 * gray inputs are repeated to three channels when C' = 3, RGB inputs averaged to one when
 * C' = 1, an alpha channel is dropped.
 */
export function resizeToPlanar(data: Uint8Array, width: number, height: number, channels: number, s: number, outChannels: 1 | 3): Uint8Array {
  checkArgs('resizeToPlanar', [data, width, height, channels, s], { data: bytes, width: int(1), height: int(1), channels: int(1), s: int(1) });
  if (outChannels !== 1 && outChannels !== 3) throw new ValueError(`resizeToPlanar: outChannels must be 1 or 3, got ${describe(outChannels)}`);
  if (data.length < width * height * channels) throw new ValueError(`resizeToPlanar: data has ${data.length} bytes, a ${height}×${width}×${channels} image needs ${width * height * channels}`);
  const rows = areaWeights(height, s), cols = areaWeights(width, s);
  const colour = channels >= 3;
  const out = new Uint8Array(outChannels * s * s);
  const tmp = new Float64Array(s * width);
  for (let c = 0; c < outChannels; c++) {
    const sample = (y: number, x: number): number => {
      const o = (y * width + x) * channels;
      if (!colour) return data[o]!;
      if (outChannels === 3) return data[o + c]!;
      return (data[o]! + data[o + 1]! + data[o + 2]!) / 3;
    };
    tmp.fill(0);
    for (let i = 0; i < s; i++) {
      const { start, w } = rows[i]!;
      for (let k = 0; k < w.length; k++) for (let x = 0; x < width; x++) tmp[i * width + x] += w[k]! * sample(start + k, x);
    }
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        const { start, w } = cols[j]!;
        let v = 0;
        for (let k = 0; k < w.length; k++) v += w[k]! * tmp[i * width + start + k]!;
        out[(c * s + i) * s + j] = Math.round(Math.min(255, Math.max(0, v)));
      }
    }
  }
  return out;
}
