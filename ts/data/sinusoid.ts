// The sinusoid regression tasks of the MAML paper: y = A·sin(x − φ), A ~ U[0.1, 5],
// φ ~ U[0, π], x ~ U[-5, 5]. Every value is drawn on the host from the Rng, so a seed
// gives the same task on every backend.

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { ShapeError } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
import type { RegressionTaskSource } from './regression.js';
import { sinusoidMLP } from '../nn/mlp.js';
import type { TaskEntry } from './registry.js';
import type { Task } from './task.js';

export interface SinusoidOptions {
  amplitude?: [number, number];
  phase?: [number, number];
  xRange?: [number, number];
}

function range(r: [number, number] | undefined, dflt: [number, number], what: string): [number, number] {
  const v = r ?? dflt;
  if (!Array.isArray(v) || v.length !== 2 || !v.every(Number.isFinite) || v[0] > v[1]) {
    throw new ShapeError(`SinusoidTasks: ${what} must be [low, high] with low <= high, got ${JSON.stringify(r)}`);
  }
  return v;
}

export class SinusoidTasks implements RegressionTaskSource {
  readonly inputShape: readonly number[] = [1];
  readonly outputShape: readonly number[] = [1];
  readonly amplitude: [number, number];
  readonly phase: [number, number];
  readonly xRange: [number, number];

  constructor(opts: SinusoidOptions = {}) {
    this.amplitude = range(opts.amplitude, [0.1, 5], 'amplitude');
    this.phase = range(opts.phase, [0, Math.PI], 'phase');
    this.xRange = range(opts.xRange, [-5, 5], 'xRange');
  }

  /** One task: `shots` support and `queries` query points, x and y float32 [n, 1]. */
  sample(rng: Rng, shots: number, queries: number, opts: { backend?: BackendName | Backend } = {}): Task & { amplitude: number; phase: number } {
    for (const [k, v] of [['shots', shots], ['queries', queries]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ShapeError(`SinusoidTasks.sample: ${k} must be a positive integer, got ${v}`);
    }
    const amplitude = rng.nextUniform(...this.amplitude);
    const phase = rng.nextUniform(...this.phase);
    const points = (n: number) => {
      const x = new Float32Array(n), y = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        x[i] = rng.nextUniform(...this.xRange);
        y[i] = amplitude * Math.sin(x[i]! - phase);
      }
      return { x: tensor(x, [n, 1], { backend: opts.backend }), y: tensor(y, [n, 1], { backend: opts.backend }) };
    };
    const support = points(shots);
    const query = points(queries);
    return { support, query, amplitude, phase };
  }

  /** `size` tasks stacked: x, y [size, n, 1]. */
  metaBatch(rng: Rng, size: number, shots: number, queries: number, opts: { backend?: BackendName | Backend } = {}): Task & { amplitude: number[]; phase: number[] } {
    if (!Number.isInteger(size) || size < 1) throw new ShapeError(`SinusoidTasks.metaBatch: size must be a positive integer, got ${size}`);
    const amplitude: number[] = [], phase: number[] = [];
    const sx = new Float32Array(size * shots), sy = new Float32Array(size * shots);
    const qx = new Float32Array(size * queries), qy = new Float32Array(size * queries);
    for (let b = 0; b < size; b++) {
      const a = rng.nextUniform(...this.amplitude), p = rng.nextUniform(...this.phase);
      amplitude.push(a);
      phase.push(p);
      for (const [xs, ys, n] of [[sx, sy, shots], [qx, qy, queries]] as const) {
        for (let i = 0; i < n; i++) {
          const x = rng.nextUniform(...this.xRange);
          xs[b * n + i] = x;
          ys[b * n + i] = a * Math.sin(x - p);
        }
      }
    }
    const o = { backend: opts.backend };
    return {
      support: { x: tensor(sx, [size, shots, 1], o), y: tensor(sy, [size, shots, 1], o) },
      query: { x: tensor(qx, [size, queries, 1], o), y: tensor(qy, [size, queries, 1], o) },
      amplitude, phase,
    };
  }
}

/** The sinusoid task source of training runs: the MAML paper's regression benchmark and its MLP. */
export const sinusoidTask: TaskEntry = {
  name: 'sinusoid',
  kind: 'regression',
  summary: 'sinusoid regression y = A·sin(x − φ) from K points (Finn et al. 2017)',
  options: {
    baseline: { kind: 'bool', default: true, help: "also train the MAML paper's comparison: one model pretrained on all tasks jointly, fine-tuned the same way" },
  },
  async load(o) {
    const tasks = new SinusoidTasks();
    const shots = o['shots'] as number, queries = o['queries'] as number;
    const draw = (q: number) => (rng: Rng) => tasks.sample(rng, shots, q);
    // the adaptation's steps at meta-test time, where the learner has any
    const steps = (o['testSteps'] ?? o['innerSteps']) as number | undefined;
    const metric = steps === undefined ? 'post-adaptation MSE' : `post-adaptation MSE (${steps} step${steps > 1 ? 's' : ''})`;
    return {
      name: 'sinusoid',
      kind: 'regression',
      inputShape: [1],
      backbone: () => sinusoidMLP(),
      describe: `sinusoid regression, K=${shots} points`,
      metric,
      resultLabel: `sinusoid K=${shots} ${metric}`,
      baseline: o['baseline'] ? 'pretrained' : undefined,
      train: draw((o['trainQueries'] as number | undefined) ?? queries),
      // meta-test as in the MAML paper: more query points for a steadier MSE
      val: draw(100),
      test: draw(100),
    };
  },
};
