// Recording: while gradients are enabled, an op whose inputs need gradients attaches a
// node (op name, inputs, saved tensors, vjp) to its output. That is the whole tape: the
// graph is the nodes reachable from an output. The backward pass lives in ts/autodiff/backward.ts.

import { expectFunction } from '../core/shape.js';
import { Tensor, expectTensor, type Node, type VjpFn } from '../tensor/tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn without recording: nothing computed inside has a gradient. */
export function noGrad<T>(fn: () => T): T {
  expectFunction(fn, 'noGrad');
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** @internal run fn with recording on or off (the backward pass uses this for createGraph). */
export function withGradEnabled<T>(on: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = on;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether an op on these inputs would be recorded. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/**
 * Record `out = op(inputs)` with its vjp. `saved` are extra tensors the vjp reads (the
 * inputs are always available to it). The vjp must use public, differentiable ops only,
 * so the backward pass can itself be differentiated (DESIGN.md rule 2).
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], vjp: VjpFn, saved: readonly Tensor[] = []): Tensor {
  if (!needsGrad(inputs)) return out;
  for (const t of inputs) t._ref();
  for (const t of saved) t._ref();
  const node: Node = { op, inputs: inputs.slice(), saved: saved.slice(), vjp, released: false };
  out._setNode(node);
  out.requiresGrad = true;
  return out;
}

/** A tensor sharing x's values with no history: gradients stop here. */
export function detach(x: Tensor): Tensor {
  return detached(x, 'detach');
}

/** Same as detach: the name JAX uses (and the one its errors give). */
export function stopGradient(x: Tensor): Tensor {
  return detached(x, 'stopGradient');
}

// one argument in the public functions on purpose: `leaves.map(detach)` passes an index second
function detached(x: Tensor, who: string): Tensor {
  expectTensor(x, who);
  return new Tensor(x._buf(who).retain(), x.shape, x.dtype, x.strides, x.offset);
}

/** Mark a leaf as needing gradients (returns it, for chaining). */
export function requireGrad(x: Tensor): Tensor {
  expectTensor(x, 'requireGrad');
  x.requiresGrad = true;
  return x;
}
