// Episodes as sequences, the protocol of memory-augmented networks (Santoro et al. 2016):
// pick `classes` classes, give them labels 0..classes−1 at random, draw `instances`
// drawings of each and present all of them in a random order. `instance[b, t]` counts how
// many times the class of step t has been shown so far in episode b (1 = its first showing),
// for the accuracy-by-instance table. Images may be resized (area filter) from the class
// source's size, e.g. 28 → 20 pixels as in the paper.

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { ShapeError } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ClassSource } from './episodes.js';
import { areaWeights, resizeArea } from './image.js';

export interface LabelSequenceOptions {
  /** classes per episode (default 5) */
  classes?: number;
  /** drawings of each class per episode (default 10) */
  instances?: number;
  /** side of the images in the sequence (default: the source's) */
  imageSize?: number;
}

export interface LabelSequences {
  /** [B, T, S·S] flattened images, ink = 1 */
  x: Tensor;
  /** int32 [B, T] labels */
  y: Tensor;
  /** [B·T] 1-based presentation count of each step's class */
  instance: Int32Array;
}

export class LabelSequenceSampler {
  readonly classes: number;
  readonly instances: number;
  readonly imageSize: number;
  private readonly sourceSize: number;
  private readonly weights: ReturnType<typeof areaWeights> | null;

  constructor(readonly source: ClassSource, o: LabelSequenceOptions = {}) {
    this.classes = o.classes ?? 5;
    this.instances = o.instances ?? 10;
    const shape = source.exampleShape;
    if (shape.length !== 3 || shape[0] !== 1 || shape[1] !== shape[2]) throw new ShapeError(`LabelSequenceSampler: examples must be square one-channel images [1, S, S], the source's are [${shape.join(', ')}]`);
    this.sourceSize = shape[1]!;
    this.imageSize = o.imageSize ?? this.sourceSize;
    for (const k of ['classes', 'instances', 'imageSize'] as const) {
      if (!Number.isInteger(this[k]) || this[k] < 1) throw new ShapeError(`LabelSequenceSampler: ${k} must be a positive integer, got ${String(o[k])}`);
    }
    if (this.imageSize > this.sourceSize) throw new ShapeError(`LabelSequenceSampler: imageSize ${this.imageSize} is larger than the source's ${this.sourceSize} (only downsampling)`);
    if (source.size < this.classes) throw new ShapeError(`LabelSequenceSampler: ${this.classes} classes per episode, the set has ${source.size}`);
    for (let i = 0; i < source.size; i++) {
      if (source.drawings(i) < this.instances) throw new ShapeError(`LabelSequenceSampler: ${this.instances} instances per class, class ${i} has ${source.drawings(i)} drawings`);
    }
    this.weights = this.imageSize === this.sourceSize ? null : areaWeights(this.sourceSize, this.imageSize);
  }

  /** Steps per episode: classes × instances. */
  get length(): number {
    return this.classes * this.instances;
  }

  /** `episodes` sequences stacked on the first axis. */
  sample(rng: Rng, episodes: number, opts: { backend?: BackendName | Backend } = {}): LabelSequences {
    if (!Number.isInteger(episodes) || episodes < 1) throw new ShapeError(`LabelSequenceSampler.sample: episodes must be a positive integer, got ${episodes}`);
    const T = this.length, s = this.imageSize, big = this.sourceSize, px = s * s;
    const x = new Float32Array(episodes * T * px), y = new Int32Array(episodes * T), instance = new Int32Array(episodes * T);
    const tmp = new Float32Array(big * big);
    for (let b = 0; b < episodes; b++) {
      const picked = rng.choice(this.source.size, this.classes);
      const labels = rng.choice(this.classes, this.classes);
      const items: [number, number][] = [];
      picked.forEach((cls, k) => rng.choice(this.source.drawings(cls), this.instances).forEach((d) => items.push([k, d])));
      rng.shuffle(items);
      const seen = new Int32Array(this.classes);
      items.forEach(([k, d], t) => {
        const at = b * T + t;
        if (this.weights) {
          this.source.writeExample(picked[k]!, d, tmp, 0);
          x.set(resizeArea(tmp, big, s, this.weights), at * px);
        } else this.source.writeExample(picked[k]!, d, x, at * px);
        y[at] = labels[k]!;
        instance[at] = ++seen[k]!;
      });
    }
    const o = { backend: opts.backend };
    return { x: tensor(x, [episodes, T, px], o), y: tensor(y, [episodes, T], { ...o, dtype: 'int32' }), instance };
  }
}
