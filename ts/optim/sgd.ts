// SGD with momentum, Nesterov momentum and L2 weight decay (PyTorch's formulation):
//   g = grad + wd·p;  buf = μ·buf + g;  d = nesterov ? g + μ·buf : buf;  p = p - lr·d

import { ShapeError, ValueError } from '../core/errors.js';
import { expectOptions } from '../core/shape.js';
import { noGrad } from '../tensor/tape.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { zerosLike } from '../tensor/create.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeMap, treeUnflatten } from '../tensor/tree.js';
import { checkSameTree, lrAt, makeStep, readStep, type LR, type Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: LR;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** SGD's state: the update count and, with momentum, the momentum tree (shaped like the params). */
export type SgdState = { step: Tensor; momentum?: ParamTree };

/** state: { step } or, with momentum, { step, momentum: tree like params } */
export function sgd(o: SgdOptions): Optimizer<SgdState> {
  expectOptions(o, 'sgd', true);
  const mu = o.momentum ?? 0, wd = o.weightDecay ?? 0;
  if (!(mu >= 0 && mu < 1)) throw new ValueError(`sgd: momentum must be in [0, 1), got ${mu}`);
  if (!(wd >= 0)) throw new ValueError(`sgd: weightDecay must be >= 0, got ${wd}`);
  if (o.nesterov && mu === 0) throw new ValueError('sgd: nesterov needs momentum > 0');
  lrAt(o.lr, 0, 'sgd');
  return {
    name: 'SGD',
    init(params: ParamTree): SgdState {
      const first = treeFlatten(params).leaves[0];
      const step = makeStep(0, first);
      return mu > 0 ? { step, momentum: noGrad(() => treeMap(params, (p) => zerosLike(p))) } : { step };
    },
    update<P extends ParamTree>(params: P, grads: P, state: ParamTree) {
      checkSameTree('sgd.update', 'params and grads', params, grads);
      const st = state as SgdState;
      const t = readStep(st.step, 'sgd.update');
      const lr = lrAt(o.lr, t, 'sgd.update');
      if (mu > 0) {
        if (!st.momentum) throw new ShapeError('sgd.update: state has no momentum tree (made by an sgd without momentum?)');
        checkSameTree('sgd.update', 'params and state.momentum', params, st.momentum);
      }
      const ps = treeFlatten(params).leaves, gs = treeFlatten(grads).leaves;
      const bufs = mu > 0 ? treeFlatten(st.momentum!).leaves : [];
      const out = noGrad(() =>
        scope(() => {
          const newP: Tensor[] = [], newB: Tensor[] = [];
          ps.forEach((p, i) => {
            let g = gs[i]!;
            if (wd > 0) g = add(g, mul(p, wd));
            let d = g;
            if (mu > 0) {
              const b = add(mul(bufs[i]!, mu), g);
              newB.push(b);
              d = o.nesterov ? add(g, mul(b, mu)) : b;
            }
            newP.push(sub(p, mul(d, lr)));
          });
          return { newP, newB };
        }),
      );
      ps.forEach((p, i) => (out.newP[i]!.requiresGrad = p.requiresGrad));
      const step = makeStep(t + 1, st.step);
      const newParams = treeUnflatten(params, out.newP);
      const newState: SgdState = mu > 0 ? { step, momentum: treeUnflatten(st.momentum!, out.newB) } : { step };
      return { params: newParams, state: newState };
    },
  };
}
