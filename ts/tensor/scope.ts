// scope(fn): every tensor created inside fn is disposed when fn returns, except the
// tensors fn returns (found in arrays, plain objects and Maps) and those passed to keep().
// Returned tensors move to the enclosing scope. Tensors a recorded gradient still needs
// survive until that gradient is computed or its output is disposed (see tensor.ts).

import { ValueError } from '../core/errors.js';
import { describe } from '../core/shape.js';
import { Tensor, setCreateHook } from './tensor.js';

const stack: Set<Tensor>[] = [];
const kept = new WeakSet<Tensor>();

function track(t: Tensor): void {
  stack[stack.length - 1]?.add(t);
}

export function scope<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ValueError(`scope: expected a function, got ${describe(fn)}`);
  const mine = new Set<Tensor>();
  stack.push(mine);
  setCreateHook(track);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    finish(mine, new Set());
    throw e;
  }
  if (result instanceof Promise) {
    finish(mine, new Set());
    throw new ValueError('scope: fn must be synchronous (ops are synchronous; await reads outside the scope)');
  }
  finish(mine, collectTensors(result));
  return result;
}

function finish(mine: Set<Tensor>, keep: Set<Tensor>): void {
  stack.pop();
  if (stack.length === 0) setCreateHook(null);
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (keep.has(t) || kept.has(t)) {
      // escaping every scope: only the garbage collector can still catch a leak
      if (parent) parent.add(t);
      else t._watch();
    } else t.dispose();
  }
}

/**
 * Exempt tensors from disposal by any enclosing scope (e.g. parameters created inside one).
 * Takes a tensor or any tree of them (arrays, plain objects, Maps), as scope() returns.
 */
export function keep<T>(t: T): T {
  const found = collectTensors(t);
  if (found.size === 0 && !(t !== null && typeof t === 'object')) throw new ValueError(`keep: expected a Tensor or a tree of tensors, got ${describe(t)}`);
  for (const x of found) {
    x.checkAlive('keep');
    kept.add(x);
    for (const s of stack) s.delete(x);
    x._watch();
  }
  return t;
}

/** Every tensor inside a value: arrays, plain objects, Maps, nested. */
export function collectTensors(value: unknown, into = new Set<Tensor>(), seen = new Set<unknown>()): Set<Tensor> {
  if (value instanceof Tensor) into.add(value);
  else if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    if (Array.isArray(value)) for (const v of value) collectTensors(v, into, seen);
    else if (value instanceof Map) for (const v of value.values()) collectTensors(v, into, seen);
    else if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
      for (const v of Object.values(value)) collectTensors(v, into, seen);
    }
  }
  return into;
}

/** Dispose every tensor inside a value (arrays, objects, Maps). */
export function disposeAll(value: unknown): void {
  for (const t of collectTensors(value)) t.dispose();
}
