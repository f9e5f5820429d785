// mini-ImageNet loaders on a tiny release the test writes: Ravi & Larochelle's images/ +
// split CSVs, and the <split>/<wnid>/ folder layout; JPEG and PNG; non-square images resized.
import test from 'tape';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mg from '../../ts/index.js';
import { EpisodeSampler, loadMiniImageNet } from '../../ts/data/index.js';
import { jpegOf as jpg, pngOf as png, writeMiniImageNet, type Rgb } from '../helpers/images.js';

const COLOURS: Record<string, Rgb> = {
  n01532829: [220, 30, 40], n01558993: [30, 200, 60], n01704323: [40, 50, 230], n01749939: [240, 240, 20],
};

async function checkSplit(t: test.Test, classes: Awaited<ReturnType<typeof loadMiniImageNet>>, names: string[], perClass: number) {
  t.deepEqual(classes.names(), names, 'classes in the listed order');
  t.deepEqual(classes.exampleShape, [3, 6, 6], 'examples [3, S, S]');
  t.ok(names.every((_, i) => classes.drawings(i) === perClass), `${perClass} images per class`);
  const out = new Float32Array(3 * 36);
  let worst = 0;
  names.forEach((n, i) => {
    classes.writeExample(i, perClass - 1, out, 0);
    for (let c = 0; c < 3; c++) for (let k = 0; k < 36; k++) worst = Math.max(worst, Math.abs(out[c * 36 + k]! - COLOURS[n]![c]! / 255));
  });
  t.ok(worst < 0.04, `pixels are the class colours, channels first, in [0, 1] (worst ${worst.toFixed(3)})`);
  const ep = new EpisodeSampler(classes, { ways: 2, shots: 1, queries: 1 }).episode(new mg.Rng(3));
  t.deepEqual(ep.support.x.shape, [2, 3, 6, 6], 'RGB episodes [N·K, 3, S, S]');
}

test('mini-ImageNet: Ravi & Larochelle layout (images/ + CSVs), cache, errors', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mg-mini-'));
  try {
    const splits = { train: ['n01532829', 'n01558993', 'n01704323'], val: ['n01749939', 'n01532829'] } as const;
    writeMiniImageNet(root, splits, (w) => COLOURS[w]!, 3);
    const train = await loadMiniImageNet({ root, split: 'train', imageSize: 6 });
    t.notOk(train.fromCache, 'first load decodes');
    await checkSplit(t, train, [...splits.train], 3);
    const again = await loadMiniImageNet({ root, split: 'train', imageSize: 6 });
    t.ok(again.fromCache, 'second load reads the cache');
    t.deepEqual(Array.from(again.store.pixels), Array.from(train.store.pixels), 'cache round trip');
    writeFileSync(join(root, 'images', 'n015328290000001.jpg'), jpg([0, 0, 0]).subarray(0, 40));
    writeFileSync(join(root, 'train.csv'), 'filename,label\nn015328290000001.jpg,n01532829\n');
    await loadMiniImageNet({ root, split: 'train', imageSize: 6 }).then(
      () => t.fail('a truncated JPEG must not load'),
      (e) => t.ok(e instanceof mg.DataError && /n015328290000001\.jpg/.test(e.message), `a damaged image is a DataError naming it: ${e.message.slice(0, 90)}`),
    );
    writeFileSync(join(root, 'test.csv'), 'file,class\n');
    await loadMiniImageNet({ root, split: 'test' }).then(() => t.fail('bad header'), (e) => t.match(e.message, /must start with the header 'filename,label'/, 'a wrong CSV header'));
    await loadMiniImageNet({ root: join(root, 'nowhere'), split: 'val' }).then(() => t.fail('missing'), (e) => t.match(e.message, /no mini-ImageNet .* found; looked in .*nowhere \(the path given\)/, 'a missing folder says where it looked'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('mini-ImageNet: <split>/<wnid>/ folders with JPEG and PNG, read-only data', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mg-mini-f-'));
  const cache = mkdtempSync(join(tmpdir(), 'mg-mini-c-'));
  try {
    const wnids = ['n01558993', 'n01749939'];
    for (const w of wnids) {
      mkdirSync(join(root, 'test', w), { recursive: true });
      writeFileSync(join(root, 'test', w, 'a.jpg'), jpg(COLOURS[w]!));
      writeFileSync(join(root, 'test', w, 'b.png'), png(COLOURS[w]!));
    }
    chmodSync(root, 0o555);
    const test_ = await loadMiniImageNet({ root, split: 'test', imageSize: 6, cacheDir: cache });
    await checkSplit(t, test_, wnids, 2);
    t.ok(test_.cachePath.startsWith(cache), 'the cache goes to cacheDir');
  } finally {
    chmodSync(root, 0o755);
    rmSync(root, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
});
