// mini-ImageNet (Vinyals et al. 2016) as Ravi & Larochelle (2017) released it: a folder
// `images/` of JPEGs (n0153282900000005.jpg, ...) and split files train.csv / val.csv /
// test.csv with the header 'filename,label' and one row per image (64 / 16 / 20 classes of
// 600 images). Also read: the common extracted layout <split>/<wnid>/<file>.jpg. PNG files
// work too. Node only (reads files); images are decoded and area-resized once to
// imageSize (84 as released) and cached (cache-file.ts) beside the data or, when that is
// read-only, in ~/.cache/metagrad/mini-imagenet; later loads read the cache. Also the CLI's
// task source `--task mini-imagenet`: N-way K-shot episodes of the three splits, Conv-4 on
// 3 × 84 × 84 inputs (32 channels per block by default, as in the MAML paper).

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-file.js';
import { join } from 'node:path';
import { DataError, ShapeError } from '../core/errors.js';
import { decodeCacheFile, encodeCacheFile } from './cache-file.js';
import { decodeImage } from './decode-image.js';
import { ImageClasses, type ImageClass, type ImageStore } from './image-classes.js';
import { resizeToPlanar } from './image.js';
import { cacheDirFor, findDataDir, isDir } from './paths.js';
import { conv4 } from '../nn/conv4.js';
import { EpisodeSampler } from './episodes.js';
import type { TaskEntry } from './registry.js';

export type MiniImageNetSplit = 'train' | 'val' | 'test';

export interface LoadMiniImageNetOptions {
  split: MiniImageNetSplit;
  /** the folder with images/ and the CSVs, or with train/ val/ test/ (default: METAGRAD_MINI_IMAGENET, $METAGRAD_DATA/mini-imagenet, ~/.cache/metagrad/mini-imagenet) */
  root?: string;
  /** side of the (square) images after resizing (default 84) */
  imageSize?: number;
  /** where the cache goes (default beside the data, or the per-user folder when that is read-only) */
  cacheDir?: string;
  /** ignore an existing cache and rebuild it */
  rebuild?: boolean;
}

const MAGIC = 'MGMINIIMAGENET1\n';
const IMAGE = /\.(jpe?g|png)$/i;

/** class name -> image paths, in the order the split lists them (CSV) or sorted (folders). */
function listSplit(root: string, split: MiniImageNetSplit): Map<string, string[]> {
  const csv = join(root, `${split}.csv`);
  const byClass = new Map<string, string[]>();
  const add = (cls: string, path: string) => {
    let l = byClass.get(cls);
    if (!l) byClass.set(cls, (l = []));
    l.push(path);
  };
  if (existsSync(csv)) {
    const lines = readFileSync(csv, 'utf8').split(/\r?\n/);
    if (!/^\s*filename\s*,\s*label\s*$/.test(lines[0] ?? '')) throw new DataError(`loadMiniImageNet: ${csv} must start with the header 'filename,label', got '${lines[0]}'`);
    lines.slice(1).forEach((raw, n) => {
      const line = raw.trim();
      if (!line) return;
      const parts = line.split(',');
      if (parts.length !== 2 || !parts[0] || !parts[1]) throw new DataError(`loadMiniImageNet: ${csv} line ${n + 2} '${line}' is not 'filename,label'`);
      add(parts[1].trim(), join(root, 'images', parts[0].trim()));
    });
  } else {
    const dir = join(root, split);
    for (const cls of readdirSync(dir).sort()) {
      const cdir = join(dir, cls);
      if (!statSync(cdir).isDirectory()) continue;
      for (const f of readdirSync(cdir).filter((f) => IMAGE.test(f)).sort()) add(cls, join(cdir, f));
    }
  }
  if (byClass.size === 0) throw new DataError(`loadMiniImageNet: the ${split} split in ${root} lists no images`);
  return byClass;
}

function decodeAll(byClass: Map<string, string[]>, s: number): ImageStore {
  const per = 3 * s * s;
  const total = [...byClass.values()].reduce((n, l) => n + l.length, 0);
  const pixels = new Uint8Array(total * per);
  const classes: ImageClass[] = [];
  let at = 0;
  for (const [name, files] of byClass) {
    classes.push({ name, first: at, count: files.length });
    for (const f of files) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(f));
      } catch (e) {
        throw new DataError(`loadMiniImageNet: cannot read ${f}: ${(e as Error).message}`);
      }
      const img = decodeImage(bytes, f);
      pixels.set(resizeToPlanar(img.data, img.width, img.height, img.channels, s, 3), at * per);
      at++;
    }
  }
  return { channels: 3, imageSize: s, pixels, classes };
}

/** The classes of one split of mini-ImageNet, images [3, S, S] in [0, 1]. */
export async function loadMiniImageNet(opts: LoadMiniImageNetOptions): Promise<ImageClasses & { fromCache: boolean; cachePath: string; root: string }> {
  const split = opts?.split;
  if (split !== 'train' && split !== 'val' && split !== 'test') throw new ShapeError(`loadMiniImageNet: split must be 'train', 'val' or 'test', got ${String(split)}`);
  const s = opts.imageSize ?? 84;
  if (!Number.isInteger(s) || s < 1 || s > 1024) throw new ShapeError(`loadMiniImageNet: imageSize must be an integer in 1..1024, got ${s}`);
  const root = findDataDir(
    'loadMiniImageNet', 'mini-imagenet', opts.root,
    `mini-ImageNet (images/ with ${split}.csv as Ravi & Larochelle released it, or a ${split}/<class>/ folder)`,
    (dir) => (existsSync(join(dir, `${split}.csv`)) && isDir(join(dir, 'images'))) || isDir(join(dir, split)),
  );
  const byClass = listSplit(root, split);
  // The cache is keyed by the listing (names, order) and the files' sizes.
  const stamp = [...byClass].map(([c, fs]) => `${c}:${fs.length}:${fs.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : -1), 0)}`).join(';');
  const cacheDir = cacheDirFor('mini-imagenet', root, opts.cacheDir);
  const cachePath = join(cacheDir, `mini-imagenet-${split}-${s}px.mgcache`);
  const done = (store: ImageStore, fromCache: boolean) => Object.assign(new ImageClasses(store), { fromCache, cachePath, root });
  if (!opts.rebuild && existsSync(cachePath)) {
    const file = decodeCacheFile(MAGIC, new Uint8Array(await readFile(cachePath)));
    const h = file?.header as { stamp?: string; imageSize?: number; classes?: ImageClass[] } | undefined;
    if (file && h?.stamp === stamp && h.imageSize === s && Array.isArray(h.classes) && file.payload.length === h.classes.reduce((n, c) => n + c.count, 0) * 3 * s * s) {
      return done({ channels: 3, imageSize: s, pixels: file.payload, classes: h.classes }, true);
    }
  }
  const store = decodeAll(byClass, s);
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic('loadMiniImageNet: the cache', cachePath, encodeCacheFile(MAGIC, { stamp, imageSize: s, classes: store.classes }, store.pixels), 'pass cacheDir to put it elsewhere');
  return done(store, false);
}

/** `metagrad train <learner> --task mini-imagenet --data DIR`: episodes of the train / val / test splits. */
export const miniImageNetTask: TaskEntry = {
  name: 'mini-imagenet',
  kind: 'classification',
  summary: 'mini-ImageNet N-way K-shot episodes (Ravi & Larochelle split: 64 / 16 / 20 classes), RGB Conv-4 backbone (32 channels, 84 px by default)',
  options: {
    data: { kind: 'str', default: undefined, help: 'mini-ImageNet folder: images/ with train.csv, val.csv, test.csv, or train/ val/ test/<class>/ (default: METAGRAD_MINI_IMAGENET, $METAGRAD_DATA/mini-imagenet, ~/.cache/metagrad/mini-imagenet)' },
  },
  async load(o) {
    const ways = o['ways'] as number, shots = o['shots'] as number, queries = o['queries'] as number;
    const imageSize = o['imageSize'] as number, hidden = o['hidden'] as number;
    const root = o['data'] as string | undefined;
    const [trainSet, valSet, testSet] = await Promise.all((['train', 'val', 'test'] as const).map((split) => loadMiniImageNet({ root, split, imageSize }))).catch((e: Error) => {
      throw new DataError(`mini-imagenet: ${e.message} (pass --data PATH to the mini-ImageNet folder)`);
    });
    const trainWays = (o['trainWays'] as number | undefined) ?? ways, trainQueries = (o['trainQueries'] as number | undefined) ?? queries;
    const opts = { ways, shots, queries };
    const train = new EpisodeSampler(trainSet!, { ways: trainWays, shots, queries: trainQueries });
    const val = new EpisodeSampler(valSet!, opts);
    const test = new EpisodeSampler(testSet!, opts);
    return {
      name: 'mini-imagenet',
      kind: 'classification',
      ways,
      inputShape: [3, imageSize, imageSize],
      backbone: (b = {}) => conv4({ inChannels: 3, imageSize, outputs: b.outputs ?? Math.max(ways, trainWays), hidden, batchNorm: b.batchNorm ?? 'transductive', maxSteps: b.maxSteps, pooledBlocks: b.pooledBlocks }),
      describe: `mini-ImageNet ${ways}-way ${shots}-shot${trainWays !== ways || trainQueries !== queries ? ` (training episodes ${trainWays}-way, ${trainQueries} queries per class)` : ''} (${train.classes.size} train / ${val.classes.size} val / ${test.classes.size} test classes, ${imageSize} px RGB from ${trainSet!.root}), Conv-4 ×${hidden}`,
      metric: 'accuracy',
      resultLabel: `${ways}-way ${shots}-shot mini-ImageNet test accuracy`,
      train: (rng) => train.episode(rng),
      val: (rng) => val.episode(rng),
      test: (rng) => test.episode(rng),
    };
  },
};
