// Adam (Kingma & Ba 2015) with L2 weight decay folded into the gradient, and AdamW
// (Loshchilov & Hutter 2019) with decoupled decay p ← p − lr·wd·p.
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p ← p − lr·m̂ / (sqrt(v̂) + eps)
// with the bias corrections m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), t = updates including this one.

import { ShapeError, ValueError } from '../core/errors.js';
import { expectOptions } from '../core/shape.js';
import { noGrad } from '../tensor/tape.js';
import { add, div, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { zerosLike } from '../tensor/create.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeMap, treeUnflatten } from '../tensor/tree.js';
import { checkSameTree, lrAt, makeStep, readStep, type LR, type Optimizer } from './optimizer.js';

/** Adam's state: the update count and the moment trees (shaped like the params). */
export type AdamState = { step: Tensor; m: ParamTree; v: ParamTree };

export interface AdamOptions {
  lr: LR;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

function makeAdam(name: 'adam' | 'adamw', o: AdamOptions, decoupled: boolean): Optimizer<AdamState> {
  const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? (decoupled ? 0.01 : 0);
  for (const [k, v] of [['beta1', b1], ['beta2', b2]] as const) if (!(v >= 0 && v < 1)) throw new ValueError(`${name}: ${k} must be in [0, 1), got ${v}`);
  if (!(eps > 0)) throw new ValueError(`${name}: eps must be > 0, got ${eps}`);
  if (!(wd >= 0)) throw new ValueError(`${name}: weightDecay must be >= 0, got ${wd}`);
  lrAt(o.lr, 0, name);
  return {
    name: name === 'adam' ? 'Adam' : 'AdamW',
    /** state: { step, m: tree like params, v: tree like params } */
    init(params: ParamTree): AdamState {
      const step = makeStep(0, treeFlatten(params).leaves[0]);
      return noGrad(() => ({ step, m: treeMap(params, (p) => zerosLike(p)), v: treeMap(params, (p) => zerosLike(p)) }));
    },
    update<P extends ParamTree>(params: P, grads: P, state: ParamTree) {
      const fn = `${name}.update`;
      checkSameTree(fn, 'params and grads', params, grads);
      const st = state as AdamState;
      if (!st.m || !st.v) throw new ShapeError(`${fn}: state must be { step, m, v } as made by ${name}.init`);
      checkSameTree(fn, 'params and state.m', params, st.m);
      checkSameTree(fn, 'params and state.v', params, st.v);
      const t = readStep(st.step, fn);
      const lr = lrAt(o.lr, t, fn);
      const c1 = 1 - Math.pow(b1, t + 1), c2 = 1 - Math.pow(b2, t + 1);
      const ps = treeFlatten(params).leaves, gs = treeFlatten(grads).leaves;
      const ms = treeFlatten(st.m).leaves, vs = treeFlatten(st.v).leaves;
      const out = noGrad(() =>
        scope(() => {
          const newP: Tensor[] = [], newM: Tensor[] = [], newV: Tensor[] = [];
          ps.forEach((p, i) => {
            let g = gs[i]!;
            if (!decoupled && wd > 0) g = add(g, mul(p, wd));
            const m = add(mul(ms[i]!, b1), mul(g, 1 - b1));
            const v = add(mul(vs[i]!, b2), mul(square(g), 1 - b2));
            const upd = div(div(m, c1), add(sqrt(div(v, c2)), eps));
            const base = decoupled && wd > 0 ? sub(p, mul(p, lr * wd)) : p;
            newP.push(sub(base, mul(upd, lr)));
            newM.push(m);
            newV.push(v);
          });
          return { newP, newM, newV };
        }),
      );
      ps.forEach((p, i) => (out.newP[i]!.requiresGrad = p.requiresGrad));
      return {
        params: treeUnflatten(params, out.newP),
        state: { step: makeStep(t + 1, st.step), m: treeUnflatten(st.m, out.newM), v: treeUnflatten(st.v, out.newV) },
      };
    },
  };
}

export function adam(o: AdamOptions): Optimizer<AdamState> {
  expectOptions(o, 'adam', true);
  return makeAdam('adam', o, false);
}

/** weightDecay defaults to 0.01 (PyTorch's AdamW default). */
export function adamw(o: AdamOptions): Optimizer<AdamState> {
  expectOptions(o, 'adamw', true);
  return makeAdam('adamw', o, true);
}
