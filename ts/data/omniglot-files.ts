// Omniglot from files (Node): the release's zips and/or extracted folders in a data folder
// found by paths.ts (the root option, METAGRAD_OMNIGLOT, $METAGRAD_DATA/omniglot, or
// ~/.cache/metagrad/omniglot), decoded once into a cache file (omniglot.ts's format) beside
// the data, or in the per-user folder when the data's folder is read-only. Later loads
// read only the cache.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-file.js';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { OMNIGLOT_SETS, Omniglot, buildOmniglotStore, checkImageSize, decodeOmniglotCache, encodeOmniglotCache, unzipPngs, type OmniglotSource } from './omniglot.js';
import type { OmniglotClass } from './omniglot-classes.js';
import { cacheDirFor, findDataDir } from './paths.js';
import { conv4 } from '../nn/conv4.js';
import { EpisodeSampler } from './episodes.js';
import type { TaskEntry } from './registry.js';

export interface LoadOmniglotOptions {
  /** folder holding the zips and/or extracted folders (default: METAGRAD_OMNIGLOT, $METAGRAD_DATA/omniglot, ~/.cache/metagrad/omniglot) */
  root?: string;
  /** where the cache goes (default: beside the data, or ~/.cache/metagrad/omniglot when that is read-only) */
  cacheDir?: string;
  /** side of the resized images (default 28) */
  imageSize?: number;
  /** ignore an existing cache and rebuild it */
  rebuild?: boolean;
}

/** Omniglot read from a folder: it knows where it came from and where its cache is. */
export type OmniglotOnDisk = Omniglot & { readonly root: string; readonly cachePath: string };

interface FileSource {
  set: string;
  kind: 'zip' | 'folder';
  path: string;
  /** identity of the source in the cache key: zip size+mtime, folder png count */
  stamp: string;
}

const hasRelease = (dir: string) => existsSync(dir) && OMNIGLOT_SETS.some((s) => existsSync(join(dir, `${s.dir}.zip`)) || existsSync(join(dir, s.dir)));

function listPngs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listPngs(p, out);
    else if (e.name.endsWith('.png')) out.push(p);
  }
  return out;
}

function findSources(root: string): FileSource[] {
  const out: FileSource[] = [];
  for (const s of OMNIGLOT_SETS) {
    const zip = join(root, `${s.dir}.zip`), dir = join(root, s.dir);
    if (existsSync(zip)) {
      const st = statSync(zip);
      out.push({ set: s.name, kind: 'zip', path: zip, stamp: `zip:${st.size}:${Math.floor(st.mtimeMs)}` });
    } else if (existsSync(dir) && statSync(dir).isDirectory()) {
      out.push({ set: s.name, kind: 'folder', path: dir, stamp: `folder:${listPngs(dir).length}` });
    }
  }
  return out;
}

function readFileChecked(p: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(p));
  } catch (e) {
    throw new DataError(`loadOmniglot: cannot read ${p}: ${(e as Error).message}`);
  }
}

async function readSources(sources: FileSource[]): Promise<OmniglotSource[]> {
  const out: OmniglotSource[] = [];
  for (const src of sources) {
    const files = src.kind === 'zip'
      ? unzipPngs(await readFile(src.path).catch((e: Error) => { throw new DataError(`loadOmniglot: cannot read zip ${src.path}: ${e.message}`); }), src.path)
      : listPngs(src.path).map((f) => ({ path: f.slice(src.path.length), bytes: () => readFileChecked(f) }));
    out.push({ set: src.set, where: src.path, files });
  }
  return out;
}

/** Load Omniglot (decoding and caching on first use). See omniglot.ts for the conventions. */
export async function loadOmniglot(opts: LoadOmniglotOptions = {}): Promise<OmniglotOnDisk> {
  const t0 = Date.now();
  const s = opts.imageSize ?? 28;
  checkImageSize(s);
  const root = findDataDir('loadOmniglot', 'omniglot', opts.root, 'Omniglot release (images_background.zip, images_evaluation.zip, ... or their extracted folders)', hasRelease);
  const sources = findSources(root);
  const key = JSON.stringify(sources.map((x) => [x.set, x.stamp]));
  const cacheDir = cacheDirFor('omniglot', root, opts.cacheDir);
  const cachePath = join(cacheDir, `omniglot-${s}px.mgcache`);
  if (!opts.rebuild && existsSync(cachePath)) {
    const store = decodeOmniglotCache(new Uint8Array(await readFile(cachePath)), key, s);
    if (store) return new Omniglot(store, root, cachePath, true, Date.now() - t0) as OmniglotOnDisk;
  }
  const store = buildOmniglotStore(await readSources(sources), s);
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic('loadOmniglot: the cache', cachePath, encodeOmniglotCache(store, key), 'pass cacheDir to put it elsewhere');
  return new Omniglot(store, root, cachePath, false, Date.now() - t0) as OmniglotOnDisk;
}

/** Classes from a split file on disk (lines 'Alphabet/characterNN[/rotDDD]'). */
export function readOmniglotSplitFile(om: Omniglot, path: string): OmniglotClass[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`readOmniglotSplitFile: cannot read ${path}: ${(e as Error).message}`);
  }
  return om.splitClasses(text, path);
}

/** The Omniglot task source of training runs: N-way K-shot episodes on the Vinyals split, Conv-4. */
export const omniglotTask: TaskEntry = {
  name: 'omniglot',
  kind: 'classification',
  summary: 'Omniglot N-way K-shot episodes, Vinyals et al. split with rotations, Conv-4 backbone',
  options: {
    data: { kind: 'str', default: undefined, help: 'Omniglot folder (default: METAGRAD_OMNIGLOT, then $METAGRAD_DATA/omniglot, then ~/.cache/metagrad/omniglot)' },
    downsample: { kind: 'str', default: 'maxpool', choices: ['maxpool', 'stride'], structural: true, help: "Conv-4's downsampling: 2×2 max-pooling (ProtoNets, Matching, Relation, Siamese) or stride-2 convolutions and a final spatial mean (the MAML reference code's Omniglot network)" },
  },
  async load(o) {
    const ways = o['ways'] as number, shots = o['shots'] as number, queries = o['queries'] as number;
    const imageSize = o['imageSize'] as number, hidden = o['hidden'] as number;
    const data = await loadOmniglot({ root: o['data'] as string | undefined, imageSize }).catch((e: Error) => {
      throw new DataError(`omniglot: ${e.message} (pass --data PATH to the Omniglot folder)`);
    });
    const opts = { ways, shots, queries };
    // training episodes may have more ways and their own query count (ProtoNets: 60-way, 5 queries)
    const trainWays = (o['trainWays'] as number | undefined) ?? ways, trainQueries = (o['trainQueries'] as number | undefined) ?? queries;
    const downsample = (o['downsample'] as 'maxpool' | 'stride' | undefined) ?? 'maxpool';
    const train = new EpisodeSampler(data.characters('vinyals-train'), { ways: trainWays, shots, queries: trainQueries });
    const val = new EpisodeSampler(data.characters('vinyals-val'), opts);
    const test = new EpisodeSampler(data.characters('vinyals-test'), opts);
    return {
      name: 'omniglot',
      kind: 'classification',
      ways,
      inputShape: [1, imageSize, imageSize],
      backbone: (b = {}) => conv4({ imageSize, outputs: b.outputs ?? Math.max(ways, trainWays), hidden, batchNorm: b.batchNorm ?? 'transductive', maxSteps: b.maxSteps, downsample, pooledBlocks: b.pooledBlocks }),
      describe: `Omniglot ${ways}-way ${shots}-shot${trainWays !== ways || trainQueries !== queries ? ` (training episodes ${trainWays}-way, ${trainQueries} queries per class)` : ''} (Vinyals split: ${train.classes.size} train / ${val.classes.size} val / ${test.classes.size} test classes with rotations), Conv-4 ×${hidden}${downsample === 'stride' ? ' stride-2' : ''}`,
      metric: 'accuracy',
      resultLabel: `${ways}-way ${shots}-shot Omniglot test accuracy`,
      train: (rng) => train.episode(rng),
      val: (rng) => val.episode(rng),
      test: (rng) => test.episode(rng),
    };
  },
};
