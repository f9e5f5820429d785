// Omniglot (Lake et al. 2015) from the original release's bytes: images_background.zip,
// images_evaluation.zip and the _small1/_small2 zips, any set of them. Browser-safe: no file
// access here (loadOmniglot in omniglot-files.ts reads the files, folders and cache in Node;
// omniglotFromZips takes the zips' bytes, e.g. from fetch()). The 105×105 PNGs are decoded
// and resized once with an area filter into one compact store (one byte per pixel).
//
// Pixel convention: ink = 1, background = 0 (the release has black strokes on white;
// MAML and ProtoNets invert likewise), floats in [0, 1], not normalized further.

import { unzipSync } from 'fflate';
import { array, bytes, checkArgs, either, instance, int, iterable, object, options, str, type Check } from '../core/args.js';
import { DataError, ShapeError } from '../core/errors.js';
import { decodeCacheFile, encodeCacheFile } from './cache-file.js';
import { areaWeights, resizeArea } from './image.js';
import { OmniglotClasses, type OmniglotCharacter, type OmniglotClass, type OmniglotStore } from './omniglot-classes.js';
import { expandVinyalsSplit, type VinyalsSplit } from './omniglot-vinyals.js';
import { decodePng } from './png.js';

export type OmniglotSplit =
  | 'background' | 'evaluation' | 'background-small1' | 'background-small2'
  | 'vinyals-train' | 'vinyals-val' | 'vinyals-trainval' | 'vinyals-test';

/** The release's four sets, in the order they are read (full sets first, so they win duplicates). */
export const OMNIGLOT_SETS: readonly { name: string; dir: string }[] = [
  { name: 'background', dir: 'images_background' },
  { name: 'evaluation', dir: 'images_evaluation' },
  { name: 'background-small1', dir: 'images_background_small1' },
  { name: 'background-small2', dir: 'images_background_small2' },
];

const MAGIC = 'MGOMNIGLOT1\n';
const FORMAT_VERSION = 1;

/** One set of the release as PNG files: paths ending .../<Alphabet>/<characterNN>/<file>.png. */
export interface OmniglotSource {
  /** 'background', 'evaluation', 'background-small1' or 'background-small2' */
  set: string;
  /** where it came from, for error messages */
  where: string;
  files: Iterable<{ path: string; bytes: () => Uint8Array }>;
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
  const png = decodePng(bytes, where);
  const { width, height, data, channels } = png;
  if (width !== height) throw new DataError(`loadOmniglot: ${where} is ${width}×${height}, expected a square image`);
  const ink = new Float64Array(width * height);
  for (let i = 0; i < ink.length; i++) ink[i] = 1 - data[i * channels]! / 255;
  let w = weightsBySize.get(width);
  if (!w) weightsBySize.set(width, (w = areaWeights(width, s)));
  const r = resizeArea(ink, width, s, w);
  const out = new Uint8Array(s * s);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, r[i]!)) * 255);
  return out;
}

/** Decode and resize every image of the sources into one store (sets in OMNIGLOT_SETS order win duplicates). */
const sourceArg: Check = object({ set: str, where: str, files: iterable('an iterable of { path, bytes() }') }, 'an Omniglot source { set, where, files }');
const storeArg: Check = object({ imageSize: int(1), pixels: bytes, characters: array() }, 'an Omniglot store { imageSize, pixels, characters }');
const zipBytes: Check = either('zip bytes (a Uint8Array or an ArrayBuffer)', bytes, instance(ArrayBuffer, 'an ArrayBuffer'));

export function buildOmniglotStore(sources: readonly OmniglotSource[], s: number): OmniglotStore {
  checkArgs('buildOmniglotStore', [sources, s], { sources: array(sourceArg, 'an array of Omniglot sources'), imageSize: int() });
  checkImageSize(s);
  const byKey = new Map<string, Pending>();
  const order: Pending[] = [];
  for (const src of sources) {
    // A character belongs to the first (fullest) set that has it; later sets only note membership.
    for (const f of src.files) {
      const p = parsePath(f.path, src.where);
      let c = byKey.get(p.key);
      if (!c) {
        c = { alphabet: p.alphabet, character: p.character, sets: [src.set], files: [] };
        byKey.set(p.key, c);
        order.push(c);
      }
      if (c.sets[0] !== src.set) {
        if (!c.sets.includes(src.set)) c.sets.push(src.set);
        continue;
      }
      c.files.push({ name: p.file, bytes: f.bytes });
    }
  }
  if (order.length === 0) throw new DataError(`loadOmniglot: no PNG images found in ${sources.map((x) => x.where).join(', ') || '(no sources)'}`);
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

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function checkImageSize(s: number): void {
  if (!Number.isInteger(s) || s < 1 || s > 105) throw new ShapeError(`loadOmniglot: imageSize must be an integer in 1..105, got ${s}`);
}

/** The PNG entries of one zip's bytes. */
export function unzipPngs(bytes: Uint8Array | ArrayBuffer, where: string): { path: string; bytes: () => Uint8Array }[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), { filter: (f) => f.name.endsWith('.png') });
  } catch (e) {
    throw new DataError(`loadOmniglot: cannot read zip ${where}: ${(e as Error).message}`);
  }
  return Object.entries(entries).map(([path, b]) => ({ path, bytes: () => b }));
}

/**
 * Omniglot from the release's zips as bytes (a browser has no files: fetch them), keyed by
 * file name: { 'images_background.zip': bytes, 'images_evaluation.zip': bytes }, any subset
 * of the four. No cache is written; `encodeOmniglotCache` gives the bytes to store yourself.
 */
export function omniglotFromZips(zips: Readonly<Record<string, Uint8Array | ArrayBuffer>>, opts: { imageSize?: number } = {}): Omniglot {
  checkArgs('omniglotFromZips', [zips, opts], { zips: object({}, "an object { 'images_background.zip': bytes, ... }"), opts: options({ imageSize: int() }) });
  for (const [name, b] of Object.entries(zips)) zipBytes(b, 'omniglotFromZips', `zips['${name}']`);
  const t0 = Date.now();
  const known = OMNIGLOT_SETS.map((s) => `${s.dir}.zip`);
  for (const name of Object.keys(zips)) {
    if (!known.includes(name)) throw new DataError(`omniglotFromZips: unknown file '${name}' (expected ${known.join(', ')})`);
  }
  if (Object.keys(zips).length === 0) throw new DataError(`omniglotFromZips: no zips given (expected any of ${known.join(', ')})`);
  const sources = OMNIGLOT_SETS.filter((s) => zips[`${s.dir}.zip`] !== undefined).map((s) => ({ set: s.name, where: `${s.dir}.zip`, files: unzipPngs(zips[`${s.dir}.zip`]!, `${s.dir}.zip`) }));
  const store = buildOmniglotStore(sources, opts.imageSize ?? 28);
  return new Omniglot(store, null, null, false, Date.now() - t0);
}

// Cache file (cache-file.ts): header { version, key, imageSize, characters }, then the pixels.
/** The bytes of a cache file for `store`; `key` identifies the sources it was built from. */
export function encodeOmniglotCache(store: OmniglotStore, key: string): Uint8Array {
  checkArgs('encodeOmniglotCache', [store, key], { store: storeArg, key: str });
  return encodeCacheFile(MAGIC, { version: FORMAT_VERSION, key, imageSize: store.imageSize, characters: store.characters }, store.pixels);
}

/** The cached store, or null if the file is missing, stale or damaged (then it is rebuilt). */
export function decodeOmniglotCache(buf: Uint8Array, key: string, s: number): OmniglotStore | null {
  checkArgs('decodeOmniglotCache', [buf, key, s], { buf: bytes, key: str, imageSize: int() });
  const file = decodeCacheFile(MAGIC, buf);
  if (!file) return null;
  const h = file.header as { version: number; key: string; imageSize: number; characters: OmniglotCharacter[] };
  if (!h || h.version !== FORMAT_VERSION || h.key !== key || h.imageSize !== s || !Array.isArray(h.characters)) return null;
  const pixels = file.payload;
  // characters must tile the images in order
  let next = 0;
  for (const c of h.characters) {
    if (!c || typeof c.alphabet !== 'string' || typeof c.character !== 'string' || !Array.isArray(c.sets) || c.first !== next || !Number.isInteger(c.count) || c.count < 0) return null;
    next += c.count;
  }
  if (pixels.length !== next * s * s) return null;
  return { imageSize: s, pixels, characters: h.characters };
}

export class Omniglot {
  private readonly byKey = new Map<string, OmniglotCharacter>();

  constructor(
    readonly store: OmniglotStore,
    /** the data folder it was read from (null: from bytes) */
    readonly root: string | null,
    /** where the cache file is (null: none written) */
    readonly cachePath: string | null,
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
   * The Vinyals split ships with metagrad (omniglot-vinyals.ts); no split files are read.
   */
  characters(split: OmniglotSplit, opts: { rotations?: boolean } = {}): OmniglotClasses {
    if (split.startsWith('vinyals-')) {
      const name = split.slice('vinyals-'.length);
      if (!['train', 'val', 'trainval', 'test'].includes(name)) throw new ShapeError(`Omniglot.characters: unknown split '${split}'`);
      let classes = this.splitLines(expandVinyalsSplit(name as VinyalsSplit), `vinyals-${name}`);
      if (opts.rotations === false) classes = classes.filter((c) => c.rotation === 0);
      return new OmniglotClasses(this.store, classes);
    }
    if (!OMNIGLOT_SETS.some((s) => s.name === split)) {
      throw new ShapeError(`Omniglot.characters: unknown split '${split}' (expected ${[...OMNIGLOT_SETS.map((s) => s.name), 'vinyals-train', 'vinyals-val', 'vinyals-trainval', 'vinyals-test'].join(', ')})`);
    }
    const chars = this.store.characters.filter((c) => c.sets.includes(split));
    if (chars.length === 0) throw new DataError(`Omniglot.characters: set '${split}' was not found in ${this.root ?? 'the zips given'}`);
    const classes = new OmniglotClasses(this.store, chars.map((character) => ({ character, rotation: 0 })));
    return opts.rotations ? classes.withRotations() : classes;
  }

  /** Classes from a split file's text: lines 'Alphabet/characterNN[/rotDDD]' (`where` names it in errors). */
  splitClasses(text: string, where = 'split'): OmniglotClass[] {
    return this.splitLines(text.split(/\r?\n/), where);
  }

  private splitLines(lines: readonly string[], where: string): OmniglotClass[] {
    const out: OmniglotClass[] = [];
    lines.forEach((raw, n) => {
      const line = raw.trim();
      if (!line) return;
      const m = /^(.+?\/character\d+)(?:\/rot(\d{3}))?$/.exec(line);
      const c = m ? this.byKey.get(m[1]!) : undefined;
      const deg = m?.[2] !== undefined ? Number(m[2]) : 0;
      if (!m || !c || deg % 90 !== 0 || deg >= 360) {
        throw new DataError(`Omniglot.splitClasses: ${where} line ${n + 1} '${line}' ${m && !c ? 'names no loaded character' : 'is not Alphabet/characterNN/rotDDD'}`);
      }
      out.push({ character: c, rotation: deg / 90 });
    });
    return out;
  }
}
