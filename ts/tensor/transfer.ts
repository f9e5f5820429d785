// Moving a tensor between backends (a copy through the host).

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { resolveBackend, tensor } from './create.js';
import { type Tensor, expectTensor } from './tensor.js';

/** A copy of x on another backend (no gradient history). Await it: reads may be asynchronous. */
export async function toBackend(x: Tensor, backend: BackendName | Backend): Promise<Tensor> {
  expectTensor(x, 'toBackend');
  const b = resolveBackend(backend, 'toBackend');
  const data = await x.data();
  return tensor(data, x.shape, { dtype: x.dtype, backend: b });
}
