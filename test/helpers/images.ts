// Small solid-colour image files for the data-loader tests: JPEG (jpeg-js) and PNG (pngjs).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export type Rgb = [number, number, number];

function rgba(c: Rgb, w: number, h: number): Buffer {
  const d = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    d[4 * i] = c[0];
    d[4 * i + 1] = c[1];
    d[4 * i + 2] = c[2];
    d[4 * i + 3] = 255;
  }
  return d;
}

export const jpegOf = (c: Rgb, w = 12, h = 10): Buffer => jpeg.encode({ data: rgba(c, w, h), width: w, height: h }, 95).data;

export function pngOf(c: Rgb, w = 12, h = 10): Buffer {
  const p = new PNG({ width: w, height: h });
  rgba(c, w, h).copy(p.data);
  return PNG.sync.write(p);
}

/** A mini-ImageNet release in Ravi & Larochelle's layout: images/ + <split>.csv, `perClass` JPEGs per class. */
export function writeMiniImageNet(root: string, splits: Record<string, readonly string[]>, colour: (wnid: string) => Rgb, perClass: number): void {
  mkdirSync(join(root, 'images'), { recursive: true });
  let n = 0;
  for (const [split, wnids] of Object.entries(splits)) {
    const rows = ['filename,label'];
    for (const w of wnids) {
      for (let k = 0; k < perClass; k++) {
        const f = `${w}${String(n++).padStart(8, '0')}.jpg`;
        writeFileSync(join(root, 'images', f), jpegOf(colour(w)));
        rows.push(`${f},${w}`);
      }
    }
    writeFileSync(join(root, `${split}.csv`), rows.join('\n') + '\n');
  }
}
