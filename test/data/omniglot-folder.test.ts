// Omniglot from extracted folders and small sets: a tiny release laid out by hand.
import test from 'tape';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as mg from '../../ts/index.js';
import { loadOmniglot, readOmniglotSplitFile, OmniglotClasses, areaWeights, resizeArea } from '../../ts/data/index.js';

function png(size: number, ink: (i: number, j: number) => boolean): Buffer {
  const p = new PNG({ width: size, height: size });
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
    const v = ink(i, j) ? 0 : 255, o = (i * size + j) * 4;
    p.data[o] = p.data[o + 1] = p.data[o + 2] = v;
    p.data[o + 3] = 255;
  }
  return PNG.sync.write(p);
}

test('omniglot folders: extracted layout, small set membership, area resize, read-only root', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mg-omni-'));
  const cache = mkdtempSync(join(tmpdir(), 'mg-omni-cache-'));
  try {
    for (const [set, alph, chars] of [['images_background', 'Alpha', 3], ['images_evaluation', 'Beta', 2], ['images_background_small1', 'Alpha', 1]] as const) {
      for (let c = 1; c <= chars; c++) {
        const d = join(root, set, alph, `character0${c}`);
        mkdirSync(d, { recursive: true });
        for (let k = 1; k <= 4; k++) writeFileSync(join(d, `0${c}0${k}_0${k}.png`), png(8, (i, j) => i < 4 && j < 2 * k));
      }
    }
    mkdirSync(join(root, 'splits'), { recursive: true });
    writeFileSync(join(root, 'splits', 'mine.txt'), 'Beta/character01/rot000\nBeta/character01/rot270\n');
    writeFileSync(join(root, 'splits', 'bad.txt'), 'Gamma/character01/rot000\n');
    chmodSync(root, 0o555); // read-only: the cache must go to cacheDir
    const om = await loadOmniglot({ root, cacheDir: cache, imageSize: 4 });
    t.equal(om.characterCount, 5, 'small set characters are not duplicated');
    t.equal(om.characters('background').size, 3);
    t.equal(om.characters('background-small1').size, 1, 'membership in the small set is kept');
    t.equal(om.characters('evaluation').size, 2);
    const mine = new OmniglotClasses(om.store, readOmniglotSplitFile(om, join(root, 'splits', 'mine.txt')));
    t.deepEqual(mine.names(), ['Beta/character01/rot000', 'Beta/character01/rot270'], 'split file lines');
    t.throws(() => readOmniglotSplitFile(om, join(root, 'splits', 'bad.txt')), /bad\.txt line 1 'Gamma\/character01\/rot000' names no loaded character/, 'a split line naming no character is a DataError');
    t.throws(() => om.characters('vinyals-val'), mg.DataError, 'the shipped Vinyals split names characters this tiny release lacks: a DataError');
    // drawing 1 of Alpha/character01: ink in rows 0..3, cols 0..1 of 8×8 -> 4×4: top-left 2×1 block
    const img = om.characters('background').image(0, 0);
    t.deepEqual(Array.from(img), [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'area resize 8→4, ink = 1');
    t.ok(om.cachePath.startsWith(cache), 'cache in cacheDir when the root is read-only');
    const again = await loadOmniglot({ root, cacheDir: cache, imageSize: 4 });
    t.ok(again.fromCache, 'second load from the cache');
    const cached = readFileSync(again.cachePath);
    writeFileSync(again.cachePath, cached.subarray(0, cached.length - 7));
    const rebuilt = await loadOmniglot({ root, cacheDir: cache, imageSize: 4 });
    t.ok(!rebuilt.fromCache && rebuilt.characterCount === 5, 'a damaged cache is rebuilt, not trusted');
    // one flipped pixel byte (the last byte of the file is a pixel): the checksum catches it
    const good = readFileSync(rebuilt.cachePath);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1] ^= 0xff;
    writeFileSync(rebuilt.cachePath, flipped);
    const afterFlip = await loadOmniglot({ root, cacheDir: cache, imageSize: 4 });
    t.ok(!afterFlip.fromCache, 'a cache with a flipped pixel byte is rebuilt');
    t.deepEqual(Array.from(afterFlip.store.pixels), Array.from(rebuilt.store.pixels), 'and the rebuilt pixels are the true ones');
    t.ok(readFileSync(afterFlip.cachePath).equals(good), 'the cache file is rewritten intact');
    t.ok((await loadOmniglot({ root, cacheDir: cache, imageSize: 4 })).fromCache, 'then read from the cache again');
  } finally {
    chmodSync(root, 0o755);
    rmSync(root, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
});

test('area filter: 105→28 weights sum to one and average a constant to itself', (t) => {
  const w = areaWeights(105, 28);
  t.ok(w.every((r) => Math.abs(r.w.reduce((a, b) => a + b, 0) - 1) < 1e-12), 'each row sums to 1');
  const out = resizeArea(new Float64Array(105 * 105).fill(0.3), 105, 28, w);
  t.ok(out.every((v) => Math.abs(v - 0.3) < 1e-12), 'constant preserved');
  t.end();
});
