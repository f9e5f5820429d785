// A set of Omniglot classes: characters, optionally each rotated by 0/90/180/270 degrees
// (rotations are separate classes, as in MAML and ProtoNets). Classes share one pixel store.

import { ShapeError } from '../core/errors.js';
import type { Rng } from '../ops/rng.js';
import { rotateInto } from './image.js';

/** One character of the release: its drawings are images first .. first+count-1 of the store. */
export interface OmniglotCharacter {
  readonly alphabet: string;
  readonly character: string;
  /** the release's sets it appears in: 'background', 'evaluation', 'background-small1', 'background-small2' */
  readonly sets: readonly string[];
  readonly first: number;
  readonly count: number;
}

export interface OmniglotStore {
  readonly imageSize: number;
  /** every image, imageSize² bytes each, 0 = background, 255 = ink */
  readonly pixels: Uint8Array;
  readonly characters: readonly OmniglotCharacter[];
}

export interface OmniglotClass {
  readonly character: OmniglotCharacter;
  /** quarter turns counter-clockwise, 0..3 */
  readonly rotation: number;
}

export class OmniglotClasses {
  constructor(readonly store: OmniglotStore, readonly classes: readonly OmniglotClass[]) {}

  get size(): number {
    return this.classes.length;
  }
  get imageSize(): number {
    return this.store.imageSize;
  }
  /** [1, S, S]: one channel. */
  get exampleShape(): readonly number[] {
    return [1, this.store.imageSize, this.store.imageSize];
  }

  /** 'Alphabet/characterNN/rotDDD', the split files' naming. */
  name(i: number): string {
    const c = this.at(i, 'name');
    return `${c.character.alphabet}/${c.character.character}/rot${String(c.rotation * 90).padStart(3, '0')}`;
  }
  names(): string[] {
    return this.classes.map((_, i) => this.name(i));
  }
  /** Drawings of class i. */
  drawings(i: number): number {
    return this.at(i, 'drawings').character.count;
  }
  /** The alphabets these classes come from, sorted. */
  alphabets(): string[] {
    return [...new Set(this.classes.map((c) => c.character.alphabet))].sort();
  }

  /** Write drawing j of class i (rotated, as floats in [0, 1], ink = 1) into out at `at`. */
  writeImage(i: number, j: number, out: Float32Array, at: number): void {
    const c = this.at(i, 'writeImage');
    if (!Number.isInteger(j) || j < 0 || j >= c.character.count) throw new ShapeError(`OmniglotClasses.writeImage: drawing ${j} out of range 0..${c.character.count - 1}`);
    const s = this.store.imageSize, n = s * s;
    const src = this.store.pixels.subarray((c.character.first + j) * n, (c.character.first + j + 1) * n);
    rotateInto(src, s, c.rotation, out, at);
  }
  /** ClassSource's name for writeImage. */
  writeExample(i: number, j: number, out: Float32Array, at: number): void {
    this.writeImage(i, j, out, at);
  }
  image(i: number, j: number): Float32Array {
    const s = this.store.imageSize;
    const out = new Float32Array(s * s);
    this.writeImage(i, j, out, 0);
    return out;
  }

  /** Each class × the four rotations (no-op for classes that are already rotated). */
  withRotations(): OmniglotClasses {
    if (this.classes.some((c) => c.rotation !== 0)) return this;
    return new OmniglotClasses(this.store, this.classes.flatMap((c) => [0, 1, 2, 3].map((rotation) => ({ character: c.character, rotation }))));
  }

  /** Only the classes whose alphabet is listed. */
  filterAlphabets(alphabets: readonly string[]): OmniglotClasses {
    const set = new Set(alphabets);
    return new OmniglotClasses(this.store, this.classes.filter((c) => set.has(c.character.alphabet)));
  }

  /**
   * An alphabet-disjoint split: alphabets are shuffled by rng and dealt, in order, into
   * parts of about the given fractions of the classes (a part takes alphabets until it
   * reaches its share). Every alphabet lands in exactly one part.
   */
  splitByAlphabet(rng: Rng, fractions: readonly number[]): OmniglotClasses[] {
    const total = fractions.reduce((a, b) => a + b, 0);
    if (fractions.length < 2 || fractions.some((f) => !(f > 0)) || Math.abs(total - 1) > 1e-9) {
      throw new ShapeError(`OmniglotClasses.splitByAlphabet: fractions must be >= 2 positive numbers summing to 1, got ${JSON.stringify(fractions)}`);
    }
    const alphabets = rng.shuffle(this.alphabets());
    if (alphabets.length < fractions.length) throw new ShapeError(`OmniglotClasses.splitByAlphabet: ${alphabets.length} alphabets cannot fill ${fractions.length} parts`);
    const perAlphabet = new Map<string, number>();
    for (const c of this.classes) perAlphabet.set(c.character.alphabet, (perAlphabet.get(c.character.alphabet) ?? 0) + 1);
    const parts: string[][] = fractions.map(() => []);
    let at = 0, done = 0;
    for (let p = 0; p < fractions.length; p++) {
      const target = fractions.slice(0, p + 1).reduce((a, b) => a + b, 0) * this.size;
      const last = p === fractions.length - 1;
      // leave at least one alphabet for each later part
      while (at < alphabets.length && (last || ((done < target || parts[p]!.length === 0) && alphabets.length - at > fractions.length - 1 - p))) {
        const a = alphabets[at++]!;
        parts[p]!.push(a);
        done += perAlphabet.get(a)!;
        if (!last && done >= target) break;
      }
    }
    return parts.map((names) => this.filterAlphabets(names));
  }

  private at(i: number, fn: string): OmniglotClass {
    const c = this.classes[i];
    if (!Number.isInteger(i) || !c) throw new ShapeError(`OmniglotClasses.${fn}: class ${i} out of range 0..${this.size - 1}`);
    return c;
  }
}
