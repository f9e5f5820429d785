// safetensors files (Node): writing is atomic (a temporary file, then rename), reading
// validates everything (safetensors.ts) before any tensor is made.

import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { DataError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** Save tensors (a ParamTree: names are treeFlatten's dotted names) atomically. */
export async function saveSafetensors(path: string, tensors: ParamTree | Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = await encodeSafetensors(tensors, metadata);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new DataError(`saveSafetensors: cannot write ${path}: ${(e as Error).message}`);
  }
}

export async function loadSafetensors(path: string, opts: { backend?: BackendName | Backend } = {}): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new DataError(`loadSafetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeSafetensors(buf, opts, path);
}
