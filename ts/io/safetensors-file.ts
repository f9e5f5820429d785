// safetensors files (Node): writing is atomic (atomic-file.ts), reading
// validates everything (safetensors.ts) before any tensor is made.

import { readFile } from 'node:fs/promises';
import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { DataError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { decodeAs, encodeAs } from './safetensors.js';
import { writeFileAtomic } from './atomic-file.js';

/** Save tensors (a ParamTree: names are treeFlatten's dotted names) atomically. */
export async function saveSafetensors(path: string, tensors: ParamTree | Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = await encodeAs('saveSafetensors', tensors, metadata);
  await writeFileAtomic('saveSafetensors', path, bytes);
}

export async function loadSafetensors(path: string, opts: { backend?: BackendName | Backend } = {}): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new DataError(`loadSafetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeAs('loadSafetensors', buf, opts, path);
}
