// Parameter trees: plain nested objects and arrays with tensors at the leaves. Models,
// optimizers, meta-learners and checkpoints all speak this one structure.

import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { describe, expectCaller, expectFunction } from '../core/shape.js';
import { Tensor } from './tensor.js';

export type ParamTree = Tensor | readonly ParamTree[] | { readonly [key: string]: ParamTree };

/** Leaves in a stable order (object keys sorted), with dotted names ("layers.0.w"). */
export function treeFlatten(tree: ParamTree, prefix = '', who = 'treeFlatten'): { names: string[]; leaves: Tensor[] } {
  expectCaller(who, 'treeFlatten', 'who');
  const names: string[] = [];
  const leaves: Tensor[] = [];
  const walk = (t: ParamTree, path: string): void => {
    if (t instanceof Tensor) {
      names.push(path);
      leaves.push(t);
    } else if (Array.isArray(t)) {
      t.forEach((c, i) => walk(c, path ? `${path}.${i}` : String(i)));
    } else if (t !== null && typeof t === 'object') {
      for (const k of Object.keys(t).sort()) walk((t as Record<string, ParamTree>)[k]!, path ? `${path}.${k}` : k);
    } else {
      throw new DTypeError(`${who}: leaf at '${path}' is ${describe(t)}, not a Tensor`);
    }
  };
  walk(tree, prefix);
  return { names, leaves };
}

/** The leaves only, in treeFlatten's order. */
export function treeLeaves(tree: ParamTree): Tensor[] {
  return treeFlatten(tree, '', 'treeLeaves').leaves;
}

/** Rebuild a tree of `like`'s structure from leaves in treeFlatten's order. */
export function treeUnflatten<T extends ParamTree>(like: T, leaves: readonly Tensor[]): T {
  if (!Array.isArray(leaves)) throw new ValueError(`treeUnflatten: leaves must be an array of tensors, got ${describe(leaves)}`);
  let i = 0;
  const build = (t: ParamTree): ParamTree => {
    if (t instanceof Tensor) {
      if (i >= leaves.length) throw new ShapeError(`treeUnflatten: too few leaves (${leaves.length})`);
      return leaves[i++]!;
    }
    if (Array.isArray(t)) return t.map(build);
    if (t === null || typeof t !== 'object') throw new DTypeError(`treeUnflatten: the template has a leaf ${describe(t)} that is not a Tensor`);
    const out: Record<string, ParamTree> = {};
    for (const k of Object.keys(t).sort()) out[k] = build((t as Record<string, ParamTree>)[k]!);
    // keep the caller's key order
    const ordered: Record<string, ParamTree> = {};
    for (const k of Object.keys(t)) ordered[k] = out[k]!;
    return ordered;
  };
  const out = build(like);
  if (i !== leaves.length) throw new ShapeError(`treeUnflatten: ${leaves.length} leaves for a tree of ${i}`);
  return out as T;
}

/** Apply fn to every leaf (with its dotted name). */
export function treeMap<T extends ParamTree>(tree: T, fn: (leaf: Tensor, name: string) => Tensor): T {
  expectFunction(fn, 'treeMap');
  const { names, leaves } = treeFlatten(tree);
  return treeUnflatten(tree, leaves.map((l, i) => fn(l, names[i]!)));
}

/** Apply fn leaf by leaf to trees of the same structure. */
export function treeZip<T extends ParamTree>(trees: readonly T[], fn: (leaves: Tensor[], name: string) => Tensor): T {
  if (!Array.isArray(trees) || trees.length === 0) throw new ValueError(`treeZip: trees must be a non-empty array of trees, got ${describe(trees)}`);
  expectFunction(fn, 'treeZip');
  const flats = trees.map((t) => treeFlatten(t));
  const first = flats[0]!;
  for (const f of flats) {
    if (f.names.length !== first.names.length || f.names.some((n, i) => n !== first.names[i])) {
      throw new ShapeError(`treeZip: trees differ in structure (${first.names.join(',')} vs ${f.names.join(',')})`);
    }
  }
  return treeUnflatten(trees[0]!, first.leaves.map((_, i) => fn(flats.map((f) => f.leaves[i]!), first.names[i]!)));
}
