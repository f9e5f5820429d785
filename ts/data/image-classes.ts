// Classes of colour (or gray) images held as one byte store [N, C, S, S], for RGB few-shot
// data sets such as mini-ImageNet. Pixels come out as floats in [0, 1], channels first.

import { DataError, ShapeError } from '../core/errors.js';
import type { ClassSource } from './episodes.js';

export interface ImageClass {
  /** the class's name in the data set (mini-ImageNet: the WordNet id, e.g. n01532829) */
  readonly name: string;
  /** its images are first .. first+count-1 of the store */
  readonly first: number;
  readonly count: number;
}

export interface ImageStore {
  readonly channels: 1 | 3;
  readonly imageSize: number;
  /** every image, channels·S·S bytes, planar (channel, row, column) */
  readonly pixels: Uint8Array;
  readonly classes: readonly ImageClass[];
}

export class ImageClasses implements ClassSource {
  constructor(readonly store: ImageStore, readonly classes: readonly ImageClass[] = store.classes) {
    const per = store.channels * store.imageSize * store.imageSize;
    let images = 0;
    for (const c of store.classes) images = Math.max(images, c.first + c.count);
    if (store.pixels.length < images * per) throw new DataError(`ImageClasses: the store holds ${store.pixels.length / per} images, its classes name ${images}`);
  }

  get size(): number {
    return this.classes.length;
  }
  get imageSize(): number {
    return this.store.imageSize;
  }
  get exampleShape(): readonly number[] {
    return [this.store.channels, this.store.imageSize, this.store.imageSize];
  }
  name(i: number): string {
    return this.at(i, 'name').name;
  }
  names(): string[] {
    return this.classes.map((c) => c.name);
  }
  drawings(i: number): number {
    return this.at(i, 'drawings').count;
  }
  writeExample(i: number, j: number, out: Float32Array, at: number): void {
    const c = this.at(i, 'writeExample');
    if (!Number.isInteger(j) || j < 0 || j >= c.count) throw new ShapeError(`ImageClasses.writeExample: image ${j} out of range 0..${c.count - 1} of class '${c.name}'`);
    const per = this.store.channels * this.store.imageSize ** 2, from = (c.first + j) * per;
    const px = this.store.pixels;
    for (let k = 0; k < per; k++) out[at + k] = px[from + k]! / 255;
  }
  /** Only the named classes. */
  only(names: readonly string[]): ImageClasses {
    const want = new Set(names);
    const kept = this.classes.filter((c) => want.has(c.name));
    if (kept.length !== want.size) throw new ShapeError(`ImageClasses.only: ${[...want].filter((n) => !kept.some((c) => c.name === n)).slice(0, 5).join(', ')} not among the classes`);
    return new ImageClasses(this.store, kept);
  }

  private at(i: number, fn: string): ImageClass {
    const c = this.classes[i];
    if (!Number.isInteger(i) || !c) throw new ShapeError(`ImageClasses.${fn}: class ${i} out of range 0..${this.size - 1}`);
    return c;
  }
}
