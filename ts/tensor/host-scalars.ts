// Host copies of small integer scalars that were created from host values (a loaded
// optimizer's step counter), so code on backends without synchronous reads (WebGPU) can
// still know them without a device round trip.

import type { Tensor } from './tensor.js';

const known = new WeakMap<Tensor, number>();

export function rememberHostScalar(t: Tensor, value: number): void {
  known.set(t, value);
}

export function hostScalar(t: Tensor): number | undefined {
  return known.get(t);
}
