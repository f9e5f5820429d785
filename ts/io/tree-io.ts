// Parameter trees (models, optimizer state) <-> named tensors, by treeFlatten's dotted names.

import { DataError, fmtShape } from '../core/errors.js';
import { describe } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';

/**
 * A tree shaped like `like` whose leaves are tensors[name] (with `prefix.` before each name
 * when a prefix is given, e.g. 'opt' for a file saved as { params, opt }). Every leaf must
 * be present with the same shape and dtype; extra tensors are ignored. The tensors are
 * used as they are (not copied); `like` is only a template.
 */
export function loadTree<T extends ParamTree>(like: T, tensors: Record<string, Tensor>, prefix?: string): T {
  if (tensors === null || typeof tensors !== 'object') throw new DataError('loadTree: tensors must be a record of named tensors (from loadSafetensors)');
  const { names, leaves } = treeFlatten(like, '', 'loadTree');
  const missing: string[] = [];
  const out = names.map((n, i) => {
    const key = prefix ? `${prefix}.${n}` : n;
    // own entries only: a plain record's 'constructor' or '__proto__' is not a tensor of the file
    const t = Object.prototype.hasOwnProperty.call(tensors, key) ? tensors[key] : undefined;
    if (t === undefined) {
      missing.push(key);
      return null;
    }
    if (!(t instanceof Tensor)) throw new DataError(`loadTree: '${key}' is ${describe(t)}, not a Tensor`);
    const want = leaves[i]!;
    if (t.shape.length !== want.shape.length || t.shape.some((d, k) => d !== want.shape[k])) {
      throw new DataError(`loadTree: '${key}' has shape ${fmtShape(t.shape)}, the model expects ${fmtShape(want.shape)}`);
    }
    if (t.dtype !== want.dtype) throw new DataError(`loadTree: '${key}' is ${t.dtype}, the model expects ${want.dtype}`);
    return t;
  });
  if (missing.length > 0) {
    const have = Object.keys(tensors);
    throw new DataError(`loadTree: missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''} (the file has ${have.length}: ${have.slice(0, 5).join(', ')}${have.length > 5 ? ', ...' : ''})`);
  }
  return treeUnflatten(like, out as Tensor[]);
}
