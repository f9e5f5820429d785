// The browser-safe PNG decoder against pngjs (an independent decoder) on every colour type
// and depth pngjs writes and on real Omniglot files (1-bit gray), plus damaged files.
import test from 'tape';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import * as mg from '../../ts/index.js';
import { decodePng } from '../../ts/data/index.js';

function randomRgba(w: number, h: number, seed: number): Buffer {
  const rng = new mg.Rng(seed);
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextInt(256);
  return data;
}

test('png: every colour type and depth pngjs writes decodes to pngjs\'s own reading', (t) => {
  const w = 13, h = 7;
  for (const colorType of [0, 2, 4, 6] as const) {
    for (const bitDepth of [8, 16] as const) {
      const p = new PNG({ width: w, height: h, colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
      randomRgba(w, h, colorType * 100 + bitDepth).copy(p.data);
      const file = PNG.sync.write(p, { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
      const ref = PNG.sync.read(file); // RGBA 8-bit
      const got = decodePng(new Uint8Array(file), `type ${colorType} depth ${bitDepth}`);
      const ch = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
      t.equal(got.channels, ch, `colour type ${colorType}: ${ch} channels`);
      let worst = 0;
      for (let i = 0; i < w * h; i++) {
        for (let c = 0; c < ch; c++) {
          // pngjs expands gray to RGB and keeps alpha last
          const refC = ch === 1 || ch === 2 ? (c === 0 ? 0 : 3) : c;
          worst = Math.max(worst, Math.abs(got.data[i * ch + c]! - ref.data[i * 4 + refC]!));
        }
      }
      t.ok(worst <= (bitDepth === 16 ? 1 : 0), `colour type ${colorType}, ${bitDepth}-bit: largest difference ${worst}`);
    }
  }
  t.end();
});

test('png: real Omniglot files (1-bit gray) match pngjs pixel for pixel', (t) => {
  const zip = readFileSync(join(process.env['METAGRAD_DATA'] ?? '', 'omniglot', 'images_evaluation.zip'));
  const names: string[] = [];
  const files = unzipSync(new Uint8Array(zip), { filter: (f) => f.name.endsWith('.png') && names.push(f.name) <= 40 });
  let compared = 0, same = 0;
  for (const [name, bytes] of Object.entries(files)) {
    const ref = PNG.sync.read(Buffer.from(bytes));
    const got = decodePng(bytes, name);
    compared++;
    if (got.width === ref.width && got.height === ref.height && got.data.every((v, i) => v === ref.data[i * 4])) same++;
  }
  t.ok(compared >= 40, `${compared} files compared`);
  t.equal(same, compared, 'all identical');
  t.end();
});

test('png: damaged and unsupported files are DataErrors that say why', (t) => {
  const p = new PNG({ width: 4, height: 4 });
  const good = new Uint8Array(PNG.sync.write(p));
  t.throws(() => decodePng(good.subarray(1), 'x.png'), /x\.png: not a PNG file/, 'bad signature');
  const flipped = good.slice();
  flipped[40] ^= 0xff;
  t.throws(() => decodePng(flipped, 'x.png'), /CRC/, 'a flipped byte fails the CRC');
  t.throws(() => decodePng(good.subarray(0, good.length - 12), 'x.png'), /truncated/, 'no IEND');
  const interlaced = good.slice();
  interlaced[28] = 1; // IHDR interlace byte; fix the CRC so only the interlace is wrong
  const crc = pngCrc(interlaced.subarray(12, 29));
  new DataView(interlaced.buffer).setUint32(29, crc);
  t.throws(() => decodePng(interlaced, 'x.png'), /interlaced/, 'Adam7 is refused with advice');
  t.throws(() => decodePng(new Uint8Array(0)), mg.DataError, 'empty input');
  t.end();
});

function pngCrc(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
