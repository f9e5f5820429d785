// Small models and tasks defined from ops, so the meta-learner tests depend on nothing but the engine.
import * as mg from '../../ts/index.js';
import type { Tensor, ParamTree } from '../../ts/index.js';

export const js = () => mg.getBackend('js');

export type Mlp = { l1: { w: Tensor; b: Tensor }; head: { w: Tensor; b: Tensor } };

/** in → hidden (tanh, smooth for finite differences) → out; head is the final layer. */
export function tinyMlp(act: (x: Tensor) => Tensor = mg.tanh) {
  return {
    init(rng: mg.Rng, inF: number, hidden: number, outF: number, dtype: mg.DType = 'float64'): Mlp {
      const o = { dtype, backend: js() };
      return {
        l1: { w: rng.normal([inF, hidden], 0, 1 / Math.sqrt(inF), o), b: rng.normal([hidden], 0, 0.1, o) },
        head: { w: rng.normal([hidden, outF], 0, 1 / Math.sqrt(hidden), o), b: rng.normal([outF], 0, 0.1, o) },
      };
    },
    apply(p: ParamTree, x: Tensor): Tensor {
      const q = p as Mlp;
      return mg.linear(act(mg.linear(x, q.l1.w, q.l1.b)), q.head.w, q.head.b);
    },
    /** the representation before the head (ANIL reuses it across inner steps) */
    features(p: ParamTree, x: Tensor): Tensor {
      const q = p as Mlp;
      return act(mg.linear(x, q.l1.w, q.l1.b));
    },
  };
}

/** A random regression task (y = sin(a·x + c) style) in float64. */
export function regressionTask(rng: mg.Rng, inF: number, n: number, q: number, dtype: mg.DType = 'float64') {
  const o = { dtype, backend: js() };
  const mk = (m: number) => {
    const x = rng.uniform([m, inF], -2, 2, o);
    const y = mg.noGrad(() => mg.sin(mg.add(mg.sum(x, [1], { keepDims: true }), 0.3)));
    return { x, y };
  };
  return { support: mk(n), query: mk(q) };
}

/** A sinusoid task as in the MAML paper: amplitude [0.1, 5], phase [0, π], x in [-5, 5]. */
export function sinusoidTask(rng: mg.Rng, k: number, q: number) {
  const amp = rng.nextUniform(0.1, 5), phase = rng.nextUniform(0, Math.PI);
  const mk = (m: number) => {
    const xs = Float32Array.from({ length: m }, () => rng.nextUniform(-5, 5));
    const ys = xs.map((v) => amp * Math.sin(v + phase));
    return { x: mg.tensor(xs, [m, 1]), y: mg.tensor(ys, [m, 1]) };
  };
  return { support: mk(k), query: mk(q) };
}

export function flat(tree: ParamTree): number[] {
  return mg.treeFlatten(tree).leaves.flatMap((t) => Array.from(t.dataSync()));
}

export function maxRelErr(a: number[], b: number[]): number {
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]!) / Math.max(1e-8, Math.abs(v), Math.abs(b[i]!)))));
  return worst;
}

/** Central finite differences of a scalar function of a parameter tree, element by element. */
export function finiteDiff(tree: ParamTree, f: (t: ParamTree) => number, h = 1e-6): number[] {
  const { leaves } = mg.treeFlatten(tree);
  const out: number[] = [];
  leaves.forEach((leaf, li) => {
    const base = Float64Array.from(leaf.dataSync());
    for (let j = 0; j < base.length; j++) {
      const at = (d: number) => {
        const v = base.slice();
        v[j]! += d;
        const swapped = leaves.map((l, k) => (k === li ? mg.tensor(v, leaf.shape.slice(), { dtype: 'float64', backend: js() }) : l));
        return mg.scope(() => f(mg.treeUnflatten(tree, swapped)));
      };
      out.push((at(h) - at(-h)) / (2 * h));
    }
  });
  return out;
}

/** Plain SGD on a tree (the tests' outer optimizer, independent of ts/optim). */
export function sgdUpdate<P extends ParamTree>(params: P, grads: P, lr: number): P {
  return mg.noGrad(() => mg.treeZip([params, grads], ([p, g]) => mg.sub(p!, mg.mul(g!, lr))));
}

/** A minimal Adam (the tests' outer optimizer, independent of ts/optim). */
export function testAdam(lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  return {
    init: (params: ParamTree): ParamTree => ({
      m: mg.treeMap(params, (p) => mg.zerosLike(p)), v: mg.treeMap(params, (p) => mg.zerosLike(p)), t: mg.scalar(0),
    }),
    update<P extends ParamTree>(params: P, grads: P, state: ParamTree): { params: P; state: ParamTree } {
      const s = state as { m: P; v: P; t: Tensor };
      const t = s.t.itemSync() + 1;
      const m = mg.treeZip([s.m, grads], ([a, g]) => mg.add(mg.mul(a!, b1), mg.mul(g!, 1 - b1)));
      const v = mg.treeZip([s.v, grads], ([a, g]) => mg.add(mg.mul(a!, b2), mg.mul(mg.square(g!), 1 - b2)));
      const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
      const p = mg.treeZip([params, m, v], ([x, mm, vv]) => mg.sub(x!, mg.div(mg.mul(mm!, lr / c1), mg.add(mg.sqrt(mg.div(vv!, c2)), eps))));
      return { params: p, state: { m, v, t: mg.scalar(t) } };
    },
  };
}

/** The MAML paper's sinusoid network, 1-40-40-1 ReLU, float32. */
export function sineMlp() {
  return {
    init(rng: mg.Rng) {
      const layer = (i: number, o: number) => ({ w: rng.normal([i, o], 0, 0.3), b: mg.zeros([o]) });
      return { l1: layer(1, 40), l2: layer(40, 40), head: layer(40, 1) };
    },
    apply(p: ParamTree, x: Tensor): Tensor {
      const q = p as { l1: { w: Tensor; b: Tensor }; l2: { w: Tensor; b: Tensor }; head: { w: Tensor; b: Tensor } };
      const h = mg.relu(mg.linear(mg.relu(mg.linear(x, q.l1.w, q.l1.b)), q.l2.w, q.l2.b));
      return mg.linear(h, q.head.w, q.head.b);
    },
  };
}
