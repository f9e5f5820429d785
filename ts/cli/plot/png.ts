// A Figure as a PNG: rasterized into an RGB buffer at an integer scale (lines stamped as
// squares, text in the 5×7 bitmap font), then encoded as one zlib-compressed IDAT chunk.

import { zlibSync } from 'fflate';
import type { Figure, Prim } from './figure.js';
import { ADVANCE, GLYPH_H, glyph } from './font5x7.js';

class Raster {
  readonly px: Uint8Array;
  constructor(readonly w: number, readonly h: number) {
    this.px = new Uint8Array(w * h * 3).fill(255);
  }
  fill(x0: number, y0: number, x1: number, y1: number, rgb: readonly number[]): void {
    const xa = Math.max(0, Math.floor(x0)), xb = Math.min(this.w, Math.ceil(x1));
    const ya = Math.max(0, Math.floor(y0)), yb = Math.min(this.h, Math.ceil(y1));
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) this.px.set(rgb, (y * this.w + x) * 3);
  }
}

function rgbOf(color: string): number[] {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return [0, 0, 0];
  const v = parseInt(m[1]!, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function segment(r: Raster, x1: number, y1: number, x2: number, y2: number, width: number, rgb: number[]): void {
  const half = Math.max(0.5, width / 2);
  const steps = Math.max(1, Math.ceil(Math.hypot(x2 - x1, y2 - y1) * 2));
  for (let i = 0; i <= steps; i++) {
    const x = x1 + ((x2 - x1) * i) / steps, y = y1 + ((y2 - y1) * i) / steps;
    r.fill(x - half, y - half, x + half, y + half, rgb);
  }
}

function text(r: Raster, p: Extract<Prim, { kind: 'text' }>, s: number): void {
  const cell = Math.max(1, Math.round((p.size * s) / 9));
  const width = (p.text.length * ADVANCE - 1) * cell;
  const start = p.anchor === 'start' ? 0 : p.anchor === 'middle' ? -width / 2 : -width;
  const X = p.x * s, Y = p.y * s, rgb = rgbOf(p.fill);
  for (let i = 0; i < p.text.length; i++) {
    const cols = glyph(p.text[i]!);
    for (let c = 0; c < 5; c++) for (let row = 0; row <= GLYPH_H; row++) {
      if (!((cols[c]! >> row) & 1)) continue;
      const dx = start + (i * ADVANCE + c) * cell, dy = (row - GLYPH_H) * cell;
      // Vertical text is the horizontal layout turned a quarter left about its anchor.
      const [x, y] = p.vertical ? [X + dy, Y - dx - cell] : [X + dx, Y + dy];
      r.fill(x, y, x + cell, y + cell, rgb);
    }
  }
}

function draw(r: Raster, p: Prim, s: number): void {
  switch (p.kind) {
    case 'rect':
      if (p.fill) r.fill(p.x * s, p.y * s, (p.x + p.w) * s, (p.y + p.h) * s, rgbOf(p.fill));
      if (p.stroke) {
        const c = rgbOf(p.stroke), [x0, y0, x1, y1] = [p.x * s, p.y * s, (p.x + p.w) * s, (p.y + p.h) * s];
        r.fill(x0, y0, x1, y0 + s, c);
        r.fill(x0, y1 - s, x1, y1, c);
        r.fill(x0, y0, x0 + s, y1, c);
        r.fill(x1 - s, y0, x1, y1, c);
      }
      return;
    case 'line':
      return segment(r, p.x1 * s, p.y1 * s, p.x2 * s, p.y2 * s, p.width * s, rgbOf(p.stroke));
    case 'path': {
      const c = rgbOf(p.stroke);
      for (let i = 1; i < p.points.length; i++) segment(r, p.points[i - 1]![0] * s, p.points[i - 1]![1] * s, p.points[i]![0] * s, p.points[i]![1] * s, p.width * s, c);
      return;
    }
    case 'dot': {
      const c = rgbOf(p.fill), R = p.r * s, cx = p.x * s, cy = p.y * s;
      for (let y = Math.floor(cy - R); y <= cy + R; y++) {
        const half = Math.sqrt(Math.max(0, R * R - (y + 0.5 - cy) ** 2));
        r.fill(cx - half, y, cx + half, y + 1, c);
      }
      return;
    }
    case 'text':
      return text(r, p, s);
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encode 8-bit RGB pixels (row-major, 3 bytes per pixel) as a PNG file. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter method variants, no interlace
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Rasterize a figure at `scale` pixels per unit and encode it. */
export function figurePng(fig: Figure, scale = 2): Uint8Array {
  const r = new Raster(Math.round(fig.width * scale), Math.round(fig.height * scale));
  for (const p of fig.prims) draw(r, p, scale);
  return encodePng(r.w, r.h, r.px);
}
