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
import { DataError } from '../core/errors.js';
import { reshape } from '../ops/shape-ops.js';
import { conv4 } from '../nn/conv4.js';
import { loadOmniglot } from './omniglot-files.js';
import type { TaskEntry } from './registry.js';
import type { Task } from './task.js';

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

/**
 * Omniglot label sequences as a task source (`metagrad train mann`): each task is ONE episode of
 * `ways` classes × `instances` drawings in presentation order, given as support = query = the
 * sequence (x [T, 1, S, S], y [T]); a learner that reads sequences (TaskInfo.sequences) scores
 * every step, its label shown one step late. Images are the 28-pixel Omniglot store resized to
 * `imageSize` (area filter; the paper: 20). Train / val / test: the Vinyals et al. classes.
 */
export const omniglotSequencesTask: TaskEntry = {
  name: 'omniglot-sequences',
  kind: 'classification',
  summary: 'Omniglot label sequences: N classes × M instances in random order, labels one step late (Santoro et al. 2016)',
  options: {
    data: { kind: 'str', default: undefined, help: 'Omniglot folder (default: METAGRAD_OMNIGLOT, then ../shared/data/omniglot)' },
    instances: { kind: 'int', default: 10, min: 1, help: 'drawings of each class per sequence (the paper: 10)' },
  },
  async load(o) {
    const classes = o['ways'] as number, instances = o['instances'] as number, imageSize = o['imageSize'] as number, hidden = o['hidden'] as number;
    const data = await loadOmniglot({ root: o['data'] as string | undefined }).catch((e: Error) => {
      throw new DataError(`omniglot-sequences: ${e.message} (pass --data PATH to the Omniglot folder)`);
    });
    const opts = { classes, instances, imageSize };
    const make = (split: 'vinyals-train' | 'vinyals-val' | 'vinyals-test') => {
      const sampler = new LabelSequenceSampler(data.characters(split), opts);
      return (rng: Rng): Task & { ways: number } => {
        const s = sampler.sample(rng, 1);
        const T = sampler.length;
        const batch = { x: reshape(s.x, [T, 1, imageSize, imageSize]), y: reshape(s.y, [T]) };
        s.x.dispose();
        s.y.dispose();
        return { support: batch, query: batch, ways: classes };
      };
    };
    return {
      name: 'omniglot-sequences',
      kind: 'classification',
      ways: classes,
      sequences: true,
      inputShape: [1, imageSize, imageSize],
      backbone: (b = {}) => conv4({ imageSize, outputs: b.outputs ?? classes, hidden, batchNorm: b.batchNorm ?? 'transductive', maxSteps: b.maxSteps }),
      describe: `Omniglot label sequences, ${classes} classes × ${instances} instances of ${imageSize}×${imageSize} (Vinyals split)`,
      metric: 'accuracy over every step of a sequence',
      resultLabel: `${classes}-class × ${instances}-instance Omniglot sequence accuracy (all steps)`,
      train: make('vinyals-train'),
      val: make('vinyals-val'),
      test: make('vinyals-test'),
    };
  },
};
