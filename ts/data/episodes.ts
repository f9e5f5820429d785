// N-way K-shot episodes: pick N classes, then K support and Q query drawings per class,
// all distinct (support and query never share a drawing). Labels are the classes'
// positions in the draw, 0..N-1, so which class gets which label is random too.
// Examples are ordered class by class (label 0's K shots, then label 1's, ...).
// Everything is drawn on the host from the Rng: a seed gives the same episodes everywhere.

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { ShapeError, ValueError } from '../errors.js';
import { describe } from '../tensor/shape.js';
import { tensor } from '../tensor/create.js';
import type { Rng } from '../tensor/rng.js';
import type { Batch, Task } from './task.js';

/** What an episode sampler needs from a class set (OmniglotClasses implements it). */
export interface ClassSource {
  readonly size: number;
  readonly imageSize: number;
  drawings(i: number): number;
  writeImage(i: number, j: number, out: Float32Array, at: number): void;
}

export interface EpisodeOptions {
  ways: number;
  shots: number;
  queries: number;
}

export class EpisodeSampler {
  readonly ways: number;
  readonly shots: number;
  readonly queries: number;

  constructor(readonly classes: ClassSource, o: EpisodeOptions) {
    const c = classes as Partial<ClassSource> | null | undefined;
    if (c === null || typeof c !== 'object' || !Number.isInteger(c.size) || !Number.isInteger(c.imageSize) || typeof c.drawings !== 'function' || typeof c.writeImage !== 'function') {
      throw new ValueError(`EpisodeSampler: classes must be a class source { size, imageSize, drawings(i), writeImage(...) } such as om.characters('background'), got ${describe(classes)}`);
    }
    if (o === null || typeof o !== 'object') throw new ValueError(`EpisodeSampler: options must be an object { ways, shots, queries }, got ${describe(o)}`);
    for (const k of ['ways', 'shots', 'queries'] as const) {
      if (!Number.isInteger(o?.[k]) || o[k] < (k === 'queries' ? 0 : 1)) throw new ShapeError(`EpisodeSampler: ${k} must be a ${k === 'queries' ? 'non-negative' : 'positive'} integer, got ${String(o?.[k])}`);
    }
    this.ways = o.ways;
    this.shots = o.shots;
    this.queries = o.queries;
    if (classes.size < o.ways) throw new ShapeError(`EpisodeSampler: ${o.ways}-way episodes need at least ${o.ways} classes, the set has ${classes.size}`);
    let fewest = Infinity;
    for (let i = 0; i < classes.size; i++) fewest = Math.min(fewest, classes.drawings(i));
    if (fewest < o.shots + o.queries) {
      throw new ShapeError(`EpisodeSampler: ${o.shots} shots + ${o.queries} queries need ${o.shots + o.queries} drawings per class, some class has only ${fewest}`);
    }
  }

  /** Fill support/query arrays for one episode at the given example offsets. */
  private draw(rng: Rng, sx: Float32Array, sy: Int32Array, sAt: number, qx: Float32Array, qy: Int32Array, qAt: number): void {
    const px = this.classes.imageSize ** 2;
    const picked = rng.choice(this.classes.size, this.ways);
    picked.forEach((cls, label) => {
      const ds = rng.choice(this.classes.drawings(cls), this.shots + this.queries);
      for (let k = 0; k < this.shots; k++) {
        const e = sAt + label * this.shots + k;
        this.classes.writeImage(cls, ds[k]!, sx, e * px);
        sy[e] = label;
      }
      for (let q = 0; q < this.queries; q++) {
        const e = qAt + label * this.queries + q;
        this.classes.writeImage(cls, ds[this.shots + q]!, qx, e * px);
        qy[e] = label;
      }
    });
  }

  /** support x [N·K, 1, S, S], y int32 [N·K]; query x [N·Q, 1, S, S], y [N·Q]; x in [0, 1], ink = 1. */
  episode(rng: Rng, opts: { backend?: BackendName | Backend } = {}): Task {
    return this.batch(rng, 1, opts, false);
  }

  /** `size` episodes stacked: x [B, N·K, 1, S, S], y [B, N·K] (query likewise). */
  metaBatch(rng: Rng, size: number, opts: { backend?: BackendName | Backend } = {}): { support: Batch; query: Batch } {
    if (!Number.isInteger(size) || size < 1) throw new ShapeError(`EpisodeSampler.metaBatch: size must be a positive integer, got ${size}`);
    return this.batch(rng, size, opts, true);
  }

  private batch(rng: Rng, size: number, opts: { backend?: BackendName | Backend }, stacked: boolean): Task {
    const s = this.classes.imageSize, px = s * s;
    const ns = this.ways * this.shots, nq = this.ways * this.queries;
    const sx = new Float32Array(size * ns * px), sy = new Int32Array(size * ns);
    const qx = new Float32Array(size * nq * px), qy = new Int32Array(size * nq);
    for (let b = 0; b < size; b++) this.draw(rng, sx, sy, b * ns, qx, qy, b * nq);
    const lead = (n: number) => (stacked ? [size, n] : [n]);
    const o = { backend: opts.backend };
    return {
      support: { x: tensor(sx, [...lead(ns), 1, s, s], o), y: tensor(sy, lead(ns), { ...o, dtype: 'int32' }) },
      query: { x: tensor(qx, [...lead(nq), 1, s, s], o), y: tensor(qy, lead(nq), { ...o, dtype: 'int32' }) },
    };
  }
}
