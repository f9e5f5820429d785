// RMSprop (Tieleman & Hinton 2012) in PyTorch's formulation:
//   g = grad + wd·p;  v = α·v + (1−α)·g²;  (centered: a = α·a + (1−α)·g, v̄ = v − a²)
//   d = g / (sqrt(v̄) + eps);  with momentum: buf = μ·buf + d, d = buf;  p ← p − lr·d

import { ShapeError, ValueError } from '../core/errors.js';
import { expectOptions } from '../core/shape.js';
import { noGrad } from '../tensor/tape.js';
import { add, div, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { zerosLike } from '../tensor/create.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeMap, treeUnflatten } from '../tensor/tree.js';
import { checkSameTree, lrAt, makeStep, readStep, type LR, type Optimizer } from './optimizer.js';

export interface RmspropOptions {
  lr: LR;
  /** smoothing constant of the squared-gradient average (default 0.99) */
  alpha?: number;
  eps?: number;
  momentum?: number;
  /** normalize by the variance estimate (v − mean²) instead of the second moment */
  centered?: boolean;
  weightDecay?: number;
}

type RmspropState = { step: Tensor; v: ParamTree; mean?: ParamTree; momentum?: ParamTree };

/** state: { step, v } plus `mean` (centered) and `momentum` (momentum > 0), trees like params */
export function rmsprop(o: RmspropOptions): Optimizer {
  expectOptions(o, 'rmsprop', true);
  const alpha = o.alpha ?? 0.99, eps = o.eps ?? 1e-8, mu = o.momentum ?? 0, wd = o.weightDecay ?? 0, centered = o.centered ?? false;
  if (!(alpha >= 0 && alpha < 1)) throw new ValueError(`rmsprop: alpha must be in [0, 1), got ${alpha}`);
  if (!(eps > 0)) throw new ValueError(`rmsprop: eps must be > 0, got ${eps}`);
  if (!(mu >= 0 && mu < 1)) throw new ValueError(`rmsprop: momentum must be in [0, 1), got ${mu}`);
  if (!(wd >= 0)) throw new ValueError(`rmsprop: weightDecay must be >= 0, got ${wd}`);
  lrAt(o.lr, 0, 'rmsprop');
  const slots: ('v' | 'mean' | 'momentum')[] = ['v', ...(centered ? ['mean' as const] : []), ...(mu > 0 ? ['momentum' as const] : [])];
  return {
    init(params: ParamTree): ParamTree {
      const step = makeStep(0, treeFlatten(params).leaves[0]);
      const st: Record<string, ParamTree> = { step };
      noGrad(() => slots.forEach((k) => (st[k] = treeMap(params, (p) => zerosLike(p)))));
      return st;
    },
    update<P extends ParamTree>(params: P, grads: P, state: ParamTree) {
      const fn = 'rmsprop.update';
      checkSameTree(fn, 'params and grads', params, grads);
      const st = state as RmspropState;
      for (const k of slots) {
        if (!st[k]) throw new ShapeError(`${fn}: state has no '${k}' tree (made by an rmsprop with other options?)`);
        checkSameTree(fn, `params and state.${k}`, params, st[k]!);
      }
      const t = readStep(st.step, fn);
      const lr = lrAt(o.lr, t, fn);
      const ps = treeFlatten(params).leaves, gs = treeFlatten(grads).leaves;
      const vs = treeFlatten(st.v).leaves;
      const as = centered ? treeFlatten(st.mean!).leaves : [];
      const bs = mu > 0 ? treeFlatten(st.momentum!).leaves : [];
      const out = noGrad(() =>
        scope(() => {
          const newP: Tensor[] = [], newV: Tensor[] = [], newA: Tensor[] = [], newB: Tensor[] = [];
          ps.forEach((p, i) => {
            let g = gs[i]!;
            if (wd > 0) g = add(g, mul(p, wd));
            const v = add(mul(vs[i]!, alpha), mul(square(g), 1 - alpha));
            newV.push(v);
            let denom = v;
            if (centered) {
              const a = add(mul(as[i]!, alpha), mul(g, 1 - alpha));
              newA.push(a);
              denom = sub(v, square(a));
            }
            let d = div(g, add(sqrt(denom), eps));
            if (mu > 0) {
              d = add(mul(bs[i]!, mu), d);
              newB.push(d);
            }
            newP.push(sub(p, mul(d, lr)));
          });
          return { newP, newV, newA, newB };
        }),
      );
      ps.forEach((p, i) => (out.newP[i]!.requiresGrad = p.requiresGrad));
      const next: Record<string, ParamTree> = { step: makeStep(t + 1, st.step), v: treeUnflatten(st.v, out.newV) };
      if (centered) next['mean'] = treeUnflatten(st.mean!, out.newA);
      if (mu > 0) next['momentum'] = treeUnflatten(st.momentum!, out.newB);
      return { params: treeUnflatten(params, out.newP), state: next };
    },
  };
}
