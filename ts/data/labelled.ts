// Your own data: a labelled dataset of examples of any shape (RGB images [3, H, W], feature
// vectors [D], ...) and its classes, ready for EpisodeSampler. learn2learn's MetaDataset
// + TaskDataset in metagrad's idiom: `new EpisodeSampler(datasetClasses(data), { ways, shots,
// queries })`, where labels are remapped per episode unless `labels: 'original'`.

import { checkArgs, fn, int, numbers, object, options } from '../core/args.js';
import { ShapeError } from '../core/errors.js';
import type { ClassSource } from './episodes.js';

/** Examples with integer labels (any non-negative integers, need not be contiguous). */
export interface LabelledDataset {
  readonly size: number;
  readonly exampleShape: readonly number[];
  label(i: number): number;
  /** write example i (prod(exampleShape) floats) into out at offset `at` */
  writeExample(i: number, out: Float32Array, at: number): void;
}

const numelOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function checkShape(fn: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ShapeError(`${fn}: exampleShape must be a non-empty list of positive integers, got ${JSON.stringify(shape)}`);
  }
}

/** A dataset held in host memory: x [N, ...exampleShape] row-major, one label per example. */
export class ArrayDataset implements LabelledDataset {
  readonly size: number;
  readonly exampleShape: readonly number[];
  private readonly x: Float32Array;
  private readonly labels: Int32Array;

  constructor(x: ArrayLike<number>, exampleShape: readonly number[], labels: ArrayLike<number>) {
    checkShape('ArrayDataset', exampleShape);
    const per = numelOf(exampleShape);
    if (x.length !== labels.length * per) {
      throw new ShapeError(`ArrayDataset: ${labels.length} labels × example shape [${exampleShape.join(', ')}] need ${labels.length * per} values, x has ${x.length}`);
    }
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      if (!Number.isInteger(l) || l < 0 || l > 0x7fffffff) throw new ShapeError(`ArrayDataset: label ${i} is ${l}, expected a non-negative integer`);
    }
    this.size = labels.length;
    this.exampleShape = [...exampleShape];
    this.x = Float32Array.from(x);
    this.labels = Int32Array.from(labels);
  }

  label(i: number): number {
    this.check(i, 'label');
    return this.labels[i]!;
  }

  writeExample(i: number, out: Float32Array, at: number): void {
    this.check(i, 'writeExample');
    const per = numelOf(this.exampleShape);
    out.set(this.x.subarray(i * per, (i + 1) * per), at);
  }

  private check(i: number, fn: string): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new ShapeError(`ArrayDataset.${fn}: example ${i} out of range 0..${this.size - 1}`);
  }
}

/** The classes of a labelled dataset: one class per distinct label, sorted by label. */
export class DatasetClasses implements ClassSource {
  /** the label of each class, ascending */
  readonly labels: readonly number[];
  private readonly members: readonly number[][];

  constructor(readonly data: LabelledDataset, opts: { labels?: readonly number[] } = {}) {
    checkShape('datasetClasses', data.exampleShape);
    const byLabel = new Map<number, number[]>();
    for (let i = 0; i < data.size; i++) {
      const l = data.label(i);
      let m = byLabel.get(l);
      if (!m) byLabel.set(l, (m = []));
      m.push(i);
    }
    let labels = [...byLabel.keys()].sort((a, b) => a - b);
    if (opts.labels !== undefined) {
      const missing = opts.labels.filter((l) => !byLabel.has(l));
      if (missing.length > 0) throw new ShapeError(`datasetClasses: labels ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''} have no examples`);
      labels = [...new Set(opts.labels)].sort((a, b) => a - b);
    }
    this.labels = labels;
    this.members = labels.map((l) => byLabel.get(l)!);
  }

  get size(): number {
    return this.labels.length;
  }
  get exampleShape(): readonly number[] {
    return this.data.exampleShape;
  }
  drawings(i: number): number {
    return this.at(i, 'drawings').length;
  }
  label(i: number): number {
    this.at(i, 'label');
    return this.labels[i]!;
  }
  /** The dataset index of example j of class i. */
  exampleIndex(i: number, j: number): number {
    const m = this.at(i, 'exampleIndex');
    if (!Number.isInteger(j) || j < 0 || j >= m.length) throw new ShapeError(`DatasetClasses.exampleIndex: example ${j} out of range 0..${m.length - 1} for class ${i}`);
    return m[j]!;
  }
  writeExample(i: number, j: number, out: Float32Array, at: number): void {
    this.data.writeExample(this.exampleIndex(i, j), out, at);
  }
  /** Only the classes whose label is listed (a class split: train / val / test labels). */
  only(labels: readonly number[]): DatasetClasses {
    return new DatasetClasses(this.data, { labels });
  }

  private at(i: number, fn: string): number[] {
    const m = this.members[i];
    if (!Number.isInteger(i) || !m) throw new ShapeError(`DatasetClasses.${fn}: class ${i} out of range 0..${this.size - 1}`);
    return m;
  }
}

/** The classes of `data` (all labels, or only those listed). */
export function datasetClasses(data: LabelledDataset, opts: { labels?: readonly number[] } = {}): DatasetClasses {
  checkArgs('datasetClasses', [data, opts], {
    data: object({ size: int(0), label: fn, writeExample: fn }, 'a labelled dataset { size, exampleShape, label(), writeExample() }'), opts: options({ labels: numbers }),
  });
  return new DatasetClasses(data, opts);
}

/**
 * Labels remapped to 0..n-1 in order of first appearance (learn2learn's RemapLabels), and
 * the original label of each new one.
 */
export function remapLabels(labels: ArrayLike<number>): { labels: Int32Array; classes: number[] } {
  checkArgs('remapLabels', [labels], { labels: numbers });
  const index = new Map<number, number>();
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l)) throw new ShapeError(`remapLabels: label ${i} is ${l}, expected an integer`);
    let k = index.get(l);
    if (k === undefined) index.set(l, (k = index.size));
    out[i] = k;
  }
  return { labels: out, classes: [...index.keys()] };
}
