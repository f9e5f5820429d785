// Omniglot (Lake et al. 2015) from the original release: images_background.zip,
// images_evaluation.zip and the _small1/_small2 zips, or their extracted folders, any
// set of them. The 105×105 PNGs are decoded (pngjs), resized once with an area filter
// and cached as one compact binary (one byte per pixel) beside the data, or in a cache
// folder when the data's folder is read-only. Later loads read only the cache.
//
// Pixel convention: ink = 1, background = 0 (the release has black strokes on white;
// MAML and ProtoNets invert likewise), floats in [0, 1], not normalized further.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { DataError, ShapeError } from '../errors.js';
import { areaWeights, resizeArea } from './image.js';
import { OmniglotClasses, type OmniglotCharacter, type OmniglotClass, type OmniglotStore } from './omniglot-classes.js';
import { defaultCacheDir, isWritableDir, sharedDataCandidates } from './paths.js';

export type OmniglotSplit =
  | 'background' | 'evaluation' | 'background-small1' | 'background-small2'
  | 'vinyals-train' | 'vinyals-val' | 'vinyals-trainval' | 'vinyals-test';

export interface LoadOmniglotOptions {
  /** folder holding the zips and/or extracted folders (default: METAGRAD_OMNIGLOT, then ../shared/data/omniglot from the package root) */
  root?: string;
  /** where the cache goes when `root` is read-only (default <package>/.cache/omniglot) */
  cacheDir?: string;
  /** side of the resized images (default 28) */
  imageSize?: number;
  /** ignore an existing cache and rebuild it */
  rebuild?: boolean;
}

/** The release's four sets, in the order they are read (full sets first, so they win duplicates). */
const SETS: readonly { name: string; dir: string }[] = [
  { name: 'background', dir: 'images_background' },
  { name: 'evaluation', dir: 'images_evaluation' },
  { name: 'background-small1', dir: 'images_background_small1' },
  { name: 'background-small2', dir: 'images_background_small2' },
];

const MAGIC = 'MGOMNIGLOT1\n';
// The header's sha256 of the pixels was added within version 1: older readers ignore it,
// and a cache without it is rebuilt once.
const FORMAT_VERSION = 1;

interface Source {
  set: string;
  kind: 'zip' | 'folder';
  path: string;
  /** identity of the source in the cache key: zip size+mtime, folder png count */
  stamp: string;
}

function findRoot(opts: LoadOmniglotOptions): string {
  const tried: string[] = [];
  const candidates = opts.root !== undefined ? [opts.root] : [...(process.env.METAGRAD_OMNIGLOT ? [process.env.METAGRAD_OMNIGLOT] : []), ...sharedDataCandidates('omniglot')];
  for (const c of candidates) {
    const dir = resolve(c);
    tried.push(dir);
    if (existsSync(dir) && SETS.some((s) => existsSync(join(dir, `${s.dir}.zip`)) || existsSync(join(dir, s.dir)))) return dir;
  }
  throw new DataError(`loadOmniglot: no Omniglot release (images_background.zip, images_evaluation.zip, ... or their folders) found; tried ${tried.join(', ') || '(no candidates)'}`);
}

function listPngs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listPngs(p, out);
    else if (e.name.endsWith('.png')) out.push(p);
  }
  return out;
}

function findSources(root: string): Source[] {
  const out: Source[] = [];
  for (const s of SETS) {
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

/** 'Alphabet/characterNN' and the file name from a path ending .../Alphabet/characterNN/file.png */
function parsePath(p: string, where: string): { key: string; alphabet: string; character: string; file: string } {
  const parts = p.split(/[\\/]/).filter((x) => x.length > 0);
  if (parts.length < 3) throw new DataError(`loadOmniglot: ${where}: '${p}' is not <Alphabet>/<characterNN>/<file>.png`);
  const [alphabet, character, file] = parts.slice(-3) as [string, string, string];
  return { key: `${alphabet}/${character}`, alphabet, character, file };
}

interface Pending {
  alphabet: string;
  character: string;
  sets: string[];
  files: { name: string; bytes: () => Uint8Array }[];
}

/** Decode one 105×105 (any size) PNG and area-resize it to s×s bytes, ink = 255. */
function decodeResize(bytes: Uint8Array, s: number, weightsBySize: Map<number, ReturnType<typeof areaWeights>>, where: string): Uint8Array {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new DataError(`loadOmniglot: cannot decode ${where}: ${(e as Error).message}`);
  }
  const { width, height, data } = png;
  if (width !== height) throw new DataError(`loadOmniglot: ${where} is ${width}×${height}, expected a square image`);
  const ink = new Float64Array(width * height);
  for (let i = 0; i < ink.length; i++) ink[i] = 1 - data[i * 4]! / 255;
  let w = weightsBySize.get(width);
  if (!w) weightsBySize.set(width, (w = areaWeights(width, s)));
  const r = resizeArea(ink, width, s, w);
  const out = new Uint8Array(s * s);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, r[i]!)) * 255);
  return out;
}

async function build(sources: Source[], s: number): Promise<OmniglotStore> {
  const byKey = new Map<string, Pending>();
  const order: Pending[] = [];
  for (const src of sources) {
    // A character belongs to the first (fullest) set that has it; later sets only note membership.
    const add = (path: string, bytes: () => Uint8Array) => {
      const p = parsePath(path, src.path);
      let c = byKey.get(p.key);
      if (!c) {
        c = { alphabet: p.alphabet, character: p.character, sets: [src.set], files: [] };
        byKey.set(p.key, c);
        order.push(c);
      }
      if (c.sets[0] !== src.set) {
        if (!c.sets.includes(src.set)) c.sets.push(src.set);
        return;
      }
      c.files.push({ name: p.file, bytes });
    };
    if (src.kind === 'zip') {
      let entries: Record<string, Uint8Array>;
      try {
        entries = unzipSync(new Uint8Array(await readFile(src.path)), { filter: (f) => f.name.endsWith('.png') });
      } catch (e) {
        throw new DataError(`loadOmniglot: cannot read zip ${src.path}: ${(e as Error).message}`);
      }
      for (const [name, bytes] of Object.entries(entries)) add(name, () => bytes);
    } else {
      for (const f of listPngs(src.path)) add(f.slice(src.path.length), () => new Uint8Array(readFileSyncSafe(f)));
    }
  }
  if (order.length === 0) throw new DataError(`loadOmniglot: no PNG images found in ${sources.map((x) => x.path).join(', ')}`);
  order.sort((a, b) => (a.alphabet === b.alphabet ? cmp(a.character, b.character) : cmp(a.alphabet, b.alphabet)));
  const total = order.reduce((n, c) => n + c.files.length, 0);
  const pixels = new Uint8Array(total * s * s);
  const weights = new Map<number, ReturnType<typeof areaWeights>>();
  const characters: OmniglotCharacter[] = [];
  let at = 0;
  for (const c of order) {
    c.files.sort((a, b) => cmp(a.name, b.name));
    const first = at;
    for (const f of c.files) {
      pixels.set(decodeResize(f.bytes(), s, weights, `${c.alphabet}/${c.character}/${f.name}`), at * s * s);
      at++;
    }
    characters.push({ alphabet: c.alphabet, character: c.character, sets: c.sets, first, count: c.files.length });
  }
  return { imageSize: s, pixels, characters };
}

function readFileSyncSafe(p: string): Buffer {
  try {
    return readFileSync(p);
  } catch (e) {
    throw new DataError(`loadOmniglot: cannot read ${p}: ${(e as Error).message}`);
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// Cache file: MAGIC, uint32 LE header length, JSON header, then the pixels.
function encodeCache(store: OmniglotStore, key: string): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ version: FORMAT_VERSION, key, imageSize: store.imageSize, characters: store.characters, sha256: pixelDigest(store.pixels) }));
  const magic = new TextEncoder().encode(MAGIC);
  const out = new Uint8Array(magic.length + 4 + header.length + store.pixels.length);
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(magic.length, header.length, true);
  out.set(header, magic.length + 4);
  out.set(store.pixels, magic.length + 4 + header.length);
  return out;
}

/** SHA-256 of the pixel bytes: a flipped byte anywhere in the cache is caught (about 30 ms for the full release). */
function pixelDigest(pixels: Uint8Array): string {
  return createHash('sha256').update(pixels).digest('hex');
}

/** The cached store, or null if the file is missing, stale or damaged (then it is rebuilt). */
function decodeCache(buf: Uint8Array, key: string, s: number): OmniglotStore | null {
  const magic = new TextEncoder().encode(MAGIC);
  if (buf.length < magic.length + 4 || !magic.every((b, i) => buf[i] === b)) return null;
  const hlen = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(magic.length, true);
  if (magic.length + 4 + hlen > buf.length) return null;
  let h: { version: number; key: string; imageSize: number; characters: OmniglotCharacter[]; sha256: string };
  try {
    h = JSON.parse(new TextDecoder().decode(buf.subarray(magic.length + 4, magic.length + 4 + hlen)));
  } catch {
    return null;
  }
  if (h === null || typeof h !== 'object') return null;
  if (h.version !== FORMAT_VERSION || h.key !== key || h.imageSize !== s || !Array.isArray(h.characters)) return null;
  const pixels = buf.subarray(magic.length + 4 + hlen);
  // characters must tile the images in order
  let next = 0;
  for (const c of h.characters) {
    if (!c || typeof c.alphabet !== 'string' || typeof c.character !== 'string' || !Array.isArray(c.sets) || c.first !== next || !Number.isInteger(c.count) || c.count < 0) return null;
    next += c.count;
  }
  const images = next;
  if (pixels.length !== images * s * s) return null;
  if (typeof h.sha256 !== 'string' || h.sha256 !== pixelDigest(pixels)) return null;
  return { imageSize: s, pixels, characters: h.characters };
}

export class Omniglot {
  private readonly byKey = new Map<string, OmniglotCharacter>();

  constructor(
    readonly store: OmniglotStore,
    /** the data folder (split files are read from <root>/splits) */
    readonly root: string,
    /** where the cache file is */
    readonly cachePath: string,
    /** true when this load read the cache; false when it decoded the PNGs */
    readonly fromCache: boolean,
    /** milliseconds this load took */
    readonly loadMs: number,
  ) {
    for (const c of store.characters) this.byKey.set(`${c.alphabet}/${c.character}`, c);
  }

  get imageSize(): number {
    return this.store.imageSize;
  }
  /** Every character read, once each (1623 for the full release). */
  get characterCount(): number {
    return this.store.characters.length;
  }
  get imageCount(): number {
    return this.store.characters.reduce((n, c) => n + c.count, 0);
  }
  /** The character 'Alphabet/characterNN', or undefined. */
  character(key: string): OmniglotCharacter | undefined {
    return this.byKey.get(key);
  }
  /** Every character, as classes (no rotations). */
  all(): OmniglotClasses {
    return new OmniglotClasses(this.store, this.store.characters.map((character) => ({ character, rotation: 0 })));
  }

  /**
   * The classes of a split. Release sets ('background' 964, 'evaluation' 659, the small
   * sets) have no rotations unless `rotations: true` (then ×4). The Vinyals et al. splits
   * ('vinyals-train' 1028, 'vinyals-val' 172, 'vinyals-trainval' 1200, 'vinyals-test' 423
   * characters) come with their rotations (×4) as published; `rotations: false` keeps rot000 only.
   */
  characters(split: OmniglotSplit, opts: { rotations?: boolean } = {}): OmniglotClasses {
    if (split.startsWith('vinyals-')) {
      const name = split.slice('vinyals-'.length);
      if (!['train', 'val', 'trainval', 'test'].includes(name)) throw new ShapeError(`Omniglot.characters: unknown split '${split}'`);
      let classes = this.splitFile(join(this.root, 'splits', 'vinyals', `${name}.txt`));
      if (opts.rotations === false) classes = classes.filter((c) => c.rotation === 0);
      return new OmniglotClasses(this.store, classes);
    }
    if (!SETS.some((s) => s.name === split)) {
      throw new ShapeError(`Omniglot.characters: unknown split '${split}' (expected ${[...SETS.map((s) => s.name), 'vinyals-train', 'vinyals-val', 'vinyals-trainval', 'vinyals-test'].join(', ')})`);
    }
    const chars = this.store.characters.filter((c) => c.sets.includes(split));
    if (chars.length === 0) throw new DataError(`Omniglot.characters: set '${split}' was not found under ${this.root}`);
    const classes = new OmniglotClasses(this.store, chars.map((character) => ({ character, rotation: 0 })));
    return opts.rotations ? classes.withRotations() : classes;
  }

  /** Classes from a split file of lines 'Alphabet/characterNN[/rotDDD]'. */
  splitFile(path: string): OmniglotClass[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new DataError(`Omniglot.splitFile: cannot read ${path}: ${(e as Error).message}`);
    }
    const out: OmniglotClass[] = [];
    text.split(/\r?\n/).forEach((raw, n) => {
      const line = raw.trim();
      if (!line) return;
      const m = /^(.+?\/character\d+)(?:\/rot(\d{3}))?$/.exec(line);
      const c = m ? this.byKey.get(m[1]!) : undefined;
      const deg = m?.[2] !== undefined ? Number(m[2]) : 0;
      if (!m || !c || deg % 90 !== 0 || deg >= 360) {
        throw new DataError(`Omniglot.splitFile: ${basename(path)} line ${n + 1} '${line}' ${m && !c ? 'names no loaded character' : 'is not Alphabet/characterNN/rotDDD'}`);
      }
      out.push({ character: c, rotation: deg / 90 });
    });
    return out;
  }
}

/** Load Omniglot (decoding and caching on first use). See the file comment for the conventions. */
export async function loadOmniglot(opts: LoadOmniglotOptions = {}): Promise<Omniglot> {
  const t0 = Date.now();
  const s = opts.imageSize ?? 28;
  if (!Number.isInteger(s) || s < 1 || s > 105) throw new ShapeError(`loadOmniglot: imageSize must be an integer in 1..105, got ${s}`);
  const root = findRoot(opts);
  const sources = findSources(root);
  const key = JSON.stringify(sources.map((x) => [x.set, x.stamp]));
  const cacheDir = opts.cacheDir !== undefined ? resolve(opts.cacheDir) : isWritableDir(root) ? root : defaultCacheDir('omniglot');
  const cachePath = join(cacheDir, `omniglot-${s}px.mgcache`);
  if (!opts.rebuild && existsSync(cachePath)) {
    const store = decodeCache(new Uint8Array(await readFile(cachePath)), key, s);
    if (store) return new Omniglot(store, root, cachePath, true, Date.now() - t0);
  }
  const store = await build(sources, s);
  await mkdir(cacheDir, { recursive: true });
  // atomic: a reader never sees a half-written cache
  const tmp = `${cachePath}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, encodeCache(store, key));
    await rename(tmp, cachePath);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new DataError(`loadOmniglot: cannot write the cache ${cachePath}: ${(e as Error).message} (pass cacheDir to put it elsewhere)`);
  }
  return new Omniglot(store, root, cachePath, false, Date.now() - t0);
}
