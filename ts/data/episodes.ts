// N-way K-shot episodes: pick N classes, then K support and Q query examples per class,
// all distinct (support and query never share an example). By default labels are remapped
// to the classes' positions in the draw, 0..N-1, so which class gets which label is random
// too (learn2learn's NWays + KShots + RemapLabels); `labels: 'original'` keeps each class's
// own label instead. Examples are ordered class by class (label 0's K shots, then label 1's, ...).
// Everything is drawn on the host from the Rng: a seed gives the same episodes everywhere.
// Examples may have any shape: images [C, H, W], feature vectors [D], ...

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { describe } from '../core/shape.js';
import { tensor } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
import type { Batch, Task } from './task.js';

/** Classes of examples (OmniglotClasses, DatasetClasses and ImageClasses implement it). */
export interface ClassSource {
  /** number of classes */
  readonly size: number;
  /** shape of one example, e.g. [1, 28, 28] or [3, 84, 84] or [64] */
  readonly exampleShape: readonly number[];
  /** examples in class i */
  drawings(i: number): number;
  /** write example j of class i (prod(exampleShape) floats) into out at offset `at` */
  writeExample(i: number, j: number, out: Float32Array, at: number): void;
  /** the label class i carries when labels are not remapped (default: i) */
  label?(i: number): number;
}

export interface EpisodeOptions {
  ways: number;
  shots: number;
  queries: number;
  /** 'remap' (default): labels 0..ways-1 in draw order; 'original': each class's own label */
  labels?: 'remap' | 'original';
}

/** A task plus the classes it drew (indices into the ClassSource, in label order). */
export type Episode = Task & { classes: number[] };

export class EpisodeSampler {
  readonly ways: number;
  readonly shots: number;
  readonly queries: number;
  readonly labels: 'remap' | 'original';

  constructor(readonly classes: ClassSource, o: EpisodeOptions) {
    const c = classes as Partial<ClassSource> | null | undefined;
    if (c === null || typeof c !== 'object' || !Number.isInteger(c.size) || !Array.isArray(c.exampleShape) || typeof c.drawings !== 'function' || typeof c.writeExample !== 'function') {
      throw new ValueError(`EpisodeSampler: classes must be a class source { size, exampleShape, drawings(i), writeExample(...) } such as om.characters('background'), got ${describe(classes)}`);
    }
    if (o === null || typeof o !== 'object') throw new ValueError(`EpisodeSampler: options must be an object { ways, shots, queries }, got ${describe(o)}`);
    for (const k of ['ways', 'shots', 'queries'] as const) {
      if (!Number.isInteger(o?.[k]) || o[k] < (k === 'queries' ? 0 : 1)) throw new ShapeError(`EpisodeSampler: ${k} must be a ${k === 'queries' ? 'non-negative' : 'positive'} integer, got ${String(o?.[k])}`);
    }
    if (o.labels !== undefined && o.labels !== 'remap' && o.labels !== 'original') throw new ShapeError(`EpisodeSampler: labels must be 'remap' or 'original', got ${String(o.labels)}`);
    const shape = classes.exampleShape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) throw new ShapeError(`EpisodeSampler: exampleShape must be positive integers, got ${JSON.stringify(shape)}`);
    this.ways = o.ways;
    this.shots = o.shots;
    this.queries = o.queries;
    this.labels = o.labels ?? 'remap';
    if (classes.size < o.ways) throw new ShapeError(`EpisodeSampler: ${o.ways}-way episodes need at least ${o.ways} classes, the set has ${classes.size}`);
    let fewest = Infinity;
    for (let i = 0; i < classes.size; i++) fewest = Math.min(fewest, classes.drawings(i));
    if (fewest < o.shots + o.queries) {
      throw new ShapeError(`EpisodeSampler: ${o.shots} shots + ${o.queries} queries need ${o.shots + o.queries} examples per class, some class has only ${fewest}`);
    }
  }

  /** Fill support/query arrays for one episode at the given example offsets; returns the classes drawn. */
  private draw(rng: Rng, sx: Float32Array, sy: Int32Array, sAt: number, qx: Float32Array, qy: Int32Array, qAt: number): number[] {
    const px = this.classes.exampleShape.reduce((a, b) => a * b, 1);
    const picked = rng.choice(this.classes.size, this.ways);
    picked.forEach((cls, position) => {
      const label = this.labels === 'remap' ? position : (this.classes.label?.(cls) ?? cls);
      const ds = rng.choice(this.classes.drawings(cls), this.shots + this.queries);
      for (let k = 0; k < this.shots; k++) {
        const e = sAt + position * this.shots + k;
        this.classes.writeExample(cls, ds[k]!, sx, e * px);
        sy[e] = label;
      }
      for (let q = 0; q < this.queries; q++) {
        const e = qAt + position * this.queries + q;
        this.classes.writeExample(cls, ds[this.shots + q]!, qx, e * px);
        qy[e] = label;
      }
    });
    return picked;
  }

  /** support x [N·K, ...exampleShape], y int32 [N·K]; query x [N·Q, ...], y [N·Q]. */
  episode(rng: Rng, opts: { backend?: BackendName | Backend } = {}): Episode {
    const { task, classes } = this.batch(rng, 1, opts, false);
    return { ...task, classes: classes[0]! };
  }

  /** `size` episodes stacked: x [B, N·K, ...exampleShape], y [B, N·K] (query likewise). */
  metaBatch(rng: Rng, size: number, opts: { backend?: BackendName | Backend } = {}): { support: Batch; query: Batch } {
    if (!Number.isInteger(size) || size < 1) throw new ShapeError(`EpisodeSampler.metaBatch: size must be a positive integer, got ${size}`);
    return this.batch(rng, size, opts, true).task;
  }

  private batch(rng: Rng, size: number, opts: { backend?: BackendName | Backend }, stacked: boolean): { task: Task; classes: number[][] } {
    const shape = this.classes.exampleShape, px = shape.reduce((a, b) => a * b, 1);
    const ns = this.ways * this.shots, nq = this.ways * this.queries;
    const sx = new Float32Array(size * ns * px), sy = new Int32Array(size * ns);
    const qx = new Float32Array(size * nq * px), qy = new Int32Array(size * nq);
    const classes: number[][] = [];
    for (let b = 0; b < size; b++) classes.push(this.draw(rng, sx, sy, b * ns, qx, qy, b * nq));
    const lead = (n: number) => (stacked ? [size, n] : [n]);
    const o = { backend: opts.backend };
    return {
      task: {
        ways: this.ways,
        support: { x: tensor(sx, [...lead(ns), ...shape], o), y: tensor(sy, lead(ns), { ...o, dtype: 'int32' }) },
        query: { x: tensor(qx, [...lead(nq), ...shape], o), y: tensor(qy, lead(nq), { ...o, dtype: 'int32' }) },
      },
      classes,
    };
  }
}
