// The optimizer contract. State is a ParamTree (so checkpoints save it with the params);
// update is functional: it returns new tensors and never writes into the old ones.
// Updates run outside the tape (noGrad): an optimizer step is not part of any model's graph.

import { DataError, ShapeError, ValueError } from '../core/errors.js';
import { scalar } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { hostScalar, rememberHostScalar } from '../tensor/host-scalars.js';

export type LR = number | ((step: number) => number);

/** S: the state's type (AdamState, SgdState, ...): what init makes and update returns. */
export interface Optimizer<S extends ParamTree = ParamTree> {
  /** what it is, for logs: 'SGD', 'Adam', 'AdamW' */
  readonly name?: string;
  init(params: ParamTree): S;
  /** `state` as init or a previous update made it; any tree is accepted (a loaded checkpoint) and checked. */
  update<P extends ParamTree>(params: P, grads: P, state: ParamTree): { params: P; state: S };
}

/** The learning rate at `step` (updates done so far). */
export function lrAt(lr: LR, step: number, fn: string): number {
  const v = typeof lr === 'function' ? lr(step) : lr;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`${fn}: learning rate must be a finite number >= 0, got ${String(v)} at step ${step}`);
  return v;
}

// The step counter is a tensor (so it serializes), but reading it back from a device every
// update would stall; the host value travels beside it, keyed by the tensor object (and
// loadSafetensors records it for the scalars it loads).
export function makeStep(n: number, like: { backend: Tensor['backend'] } | undefined): Tensor {
  const t = scalar(n, { dtype: 'int32', ...(like ? { backend: like.backend } : {}) });
  rememberHostScalar(t, n);
  return t;
}

export function readStep(t: unknown, fn: string): number {
  if (!t || typeof (t as Tensor).dtype !== 'string') throw new DataError(`${fn}: optimizer state has no 'step' tensor (was it made by this optimizer's init?)`);
  const k = hostScalar(t as Tensor);
  if (k !== undefined) return k;
  const s = t as Tensor;
  if (s.size !== 1) throw new DataError(`${fn}: state.step must be a single value, got ${s.size} values`);
  if (!s.backend.readSync) throw new DataError(`${fn}: state.step lives on '${s.backend.name}', which cannot be read synchronously; load optimizer state on the js or native backend`);
  const v = s.itemSync();
  if (!Number.isInteger(v) || v < 0) throw new DataError(`${fn}: state.step must be a non-negative integer, got ${v}`);
  rememberHostScalar(s, v);
  return v;
}

/** Same dotted names in params, grads and each slot tree, or a ShapeError naming the difference. */
export function checkSameTree(fn: string, what: string, a: ParamTree, b: ParamTree): void {
  const fa = treeFlatten(a), fb = treeFlatten(b);
  const diff = fa.names.find((n, i) => n !== fb.names[i]) ?? (fa.names.length !== fb.names.length ? '(count)' : null);
  if (diff !== null) throw new ShapeError(`${fn}: ${what} differ in structure at '${diff}' (${fa.names.length} vs ${fb.names.length} leaves)`);
  fa.leaves.forEach((l, i) => {
    const m = fb.leaves[i]!;
    if (l.shape.length !== m.shape.length || l.shape.some((d, j) => d !== m.shape[j])) {
      throw new ShapeError(`${fn}: ${what} differ in shape at '${fa.names[i]}': [${l.shape}] vs [${m.shape}]`);
    }
  });
}
