// The backward pass: walk the recorded nodes from the outputs in reverse topological
// order, calling each vjp and summing cotangents. With createGraph the vjps are recorded
// too (they are ordinary ops), which is all higher-order derivatives need.

import { GradError, fmtShape } from '../core/errors.js';
import { scope } from '../tensor/scope.js';
import { describe, shapesEqual } from '../core/shape.js';
import { Tensor, asEngine, type Node } from '../tensor/tensor.js';
import { onesLike, zerosLike } from '../tensor/create.js';
import { add } from '../ops/elementwise.js';
import { withGradEnabled } from '../tensor/tape.js';

export interface GradOptions {
  /** Cotangents for the outputs (required for non-scalar outputs). */
  gradOutputs?: Tensor | readonly (Tensor | null | undefined)[];
  /** Record the backward pass so the gradients can be differentiated again. */
  createGraph?: boolean;
  /** Keep the graph for another backward pass (defaults to createGraph). */
  retainGraph?: boolean;
}

const RELEASED: Node = Object.freeze({ op: '<released>', inputs: [], saved: [], vjp: () => [], released: true }) as Node;

/**
 * Gradients of the outputs (summed, weighted by gradOutputs) with respect to each input.
 * Inputs need not be leaves: any tensor on the tape works, including earlier gradients.
 * Inputs the outputs do not depend on get zeros.
 */
export function gradients(outputsIn: Tensor | readonly Tensor[], inputsIn: Tensor | readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  return gradientsAs('gradients', outputsIn, inputsIn, opts);
}

/** gradients() with errors naming `op`, the function the user called (grad, hessian, ...). */
export function gradientsAs(op: string, outputsIn: Tensor | readonly Tensor[], inputsIn: Tensor | readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  if (opts === null || typeof opts !== 'object') throw new GradError(`${op}: options must be an object { gradOutputs, createGraph, retainGraph }, got ${describe(opts)}`);
  const outputs = Array.isArray(outputsIn) ? (outputsIn as Tensor[]) : [outputsIn as Tensor];
  const inputs = Array.isArray(inputsIn) ? (inputsIn as Tensor[]) : [inputsIn as Tensor];
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  const gradOutputs = opts.gradOutputs === undefined ? [] : Array.isArray(opts.gradOutputs) ? opts.gradOutputs : [opts.gradOutputs as Tensor];

  outputs.forEach((o, i) => {
    if (!(o instanceof Tensor)) throw new GradError(`${op}: output ${i} is ${describe(o)}, not a Tensor`);
    o.checkAlive(op);
  });
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new GradError(`${op}: input ${i} is ${describe(x)}, not a Tensor`);
    x.checkAlive(op);
    if (!x.requiresGrad) {
      throw new GradError(`${op}: input ${i} (${x.dtype} ${fmtShape(x.shape)}) does not require grad; create it with { requiresGrad: true } or call requireGrad(x) before computing the outputs`);
    }
  });
  gradOutputs.forEach((g, i) => {
    if (g !== null && g !== undefined && !(g instanceof Tensor)) throw new GradError(`${op}: gradOutputs[${i}] is ${describe(g)}, not a Tensor`);
    g?.checkAlive(op);
  });
  if (gradOutputs.length > 0 && gradOutputs.length !== outputs.length) {
    throw new GradError(`${op}: ${gradOutputs.length} gradOutputs for ${outputs.length} outputs`);
  }

  return scope(() => {
    const inputSet = new Set(inputs);
    const { order, reaches } = topoOrder(outputs, inputSet);
    const relevant = { has: (t: Tensor) => reaches.get(t) === true };
    const cot = new Map<Tensor, Tensor>();
    const accumulate = (t: Tensor, g: Tensor): void => {
      const prev = cot.get(t);
      cot.set(t, prev ? add(prev, g) : g);
    };

    outputs.forEach((o, i) => {
      const go = gradOutputs[i];
      if (go) {
        if (!shapesEqual(go.shape, o.shape)) throw new GradError(`${op}: gradOutputs[${i}] has shape ${fmtShape(go.shape)} but output ${i} has shape ${fmtShape(o.shape)}`);
        if (relevant.has(o)) accumulate(o, go);
      } else {
        if (o.size !== 1) {
          throw new GradError(`${op}: output ${i} has shape ${fmtShape(o.shape)}, not a scalar; pass gradOutputs with a cotangent of that shape`);
        }
        if (relevant.has(o)) accumulate(o, withGradEnabled(false, () => onesLike(o)));
      }
    });

    withGradEnabled(createGraph, () =>
      asEngine(() => {
        for (const t of order) {
          const g = cot.get(t);
          const node = t.node;
          if (!g || !node) continue;
          if (node.released) {
            throw new GradError(`${op}: the graph through '${node.op}' was already freed by an earlier backward pass; pass { retainGraph: true } to that call to differentiate twice`);
          }
          const grads = node.vjp(g, t, node.inputs, node.saved);
          node.inputs.forEach((inp, k) => {
            const gi = grads[k];
            if (!gi || !relevant.has(inp)) return;
            if (!shapesEqual(gi.shape, inp.shape)) {
              throw new GradError(`${op}: internal error: vjp of '${node.op}' gave a gradient of shape ${fmtShape(gi.shape)} for an input of shape ${fmtShape(inp.shape)}`);
            }
            accumulate(inp, gi);
          });
        }
      }),
    );

    const result = inputs.map((x) => cot.get(x) ?? withGradEnabled(false, () => zerosLike(x)));
    if (!retainGraph) for (const t of order) if (t.node) t._setNode(RELEASED);
    return result;
  });
}

/**
 * Tensors whose vjp must run (their node leads to some input), outputs first, each before
 * the tensors it was computed from, plus which tensors reach an input at all. Iterative
 * DFS: graphs can be very deep. A released node counts as reaching, so that a backward
 * pass through it reports the freed graph instead of silently returning zeros.
 */
function topoOrder(outputs: readonly Tensor[], inputs: ReadonlySet<Tensor>): { order: Tensor[]; reaches: Map<Tensor, boolean> } {
  const reaches = new Map<Tensor, boolean>();
  const post: Tensor[] = [];
  for (const o of outputs) {
    if (reaches.has(o)) continue;
    reaches.set(o, inputs.has(o));
    const stack: { t: Tensor; i: number }[] = [{ t: o, i: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const node = top.t.node;
      const ins = node ? node.inputs : [];
      if (top.i < ins.length) {
        const c = ins[top.i++]!;
        if (!reaches.has(c)) {
          reaches.set(c, inputs.has(c));
          stack.push({ t: c, i: 0 });
        }
      } else {
        stack.pop();
        let children = node?.released ?? false;
        for (const c of ins) if (reaches.get(c)) children = true;
        if (children) reaches.set(top.t, true);
        if (children && node) post.push(top.t);
      }
    }
  }
  return { order: post.reverse(), reaches };
}
