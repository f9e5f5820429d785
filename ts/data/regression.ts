// Regression tasks of your own: a family of functions to fit from a few points. Describe
// the family (how to draw a function, how to draw an input, what the function gives) and
// FunctionTasks samples tasks and meta-batches from it, as SinusoidTasks does for the MAML
// paper's sinusoids. Inputs and outputs may have any shape per point.

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { ShapeError } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
import type { Task } from './task.js';

/** What every regression task source offers (SinusoidTasks and FunctionTasks implement it). */
export interface RegressionTaskSource {
  /** shape of one input point, e.g. [1] */
  readonly inputShape: readonly number[];
  /** shape of one target, e.g. [1] */
  readonly outputShape: readonly number[];
  /** one task: support x [shots, ...inputShape], y [shots, ...outputShape]; query likewise */
  sample(rng: Rng, shots: number, queries: number, opts?: { backend?: BackendName | Backend }): Task;
  /** `size` tasks stacked on a leading dimension */
  metaBatch(rng: Rng, size: number, shots: number, queries: number, opts?: { backend?: BackendName | Backend }): Task;
}

export interface FunctionFamily<P> {
  inputShape: readonly number[];
  outputShape: readonly number[];
  /** draw one function of the family (its parameters) */
  sampleFunction(rng: Rng): P;
  /** draw one input point into x at offset `at` (prod(inputShape) values) */
  sampleInput(rng: Rng, x: Float32Array, at: number): void;
  /** write f(x) (prod(outputShape) values) for the point at x[xAt..] into y at yAt */
  evaluate(f: P, x: Float32Array, xAt: number, y: Float32Array, yAt: number): void;
}

const numelOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export class FunctionTasks<P> implements RegressionTaskSource {
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];

  constructor(readonly family: FunctionFamily<P>) {
    for (const k of ['inputShape', 'outputShape'] as const) {
      const s = family?.[k];
      if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d > 0)) throw new ShapeError(`FunctionTasks: ${k} must be a list of positive integers, got ${JSON.stringify(s)}`);
    }
    this.inputShape = [...family.inputShape];
    this.outputShape = [...family.outputShape];
  }

  /** One task and the function it was drawn from. */
  sample(rng: Rng, shots: number, queries: number, opts: { backend?: BackendName | Backend } = {}): Task & { function: P } {
    const { task, functions } = this.draw(rng, 1, shots, queries, opts, false);
    return { ...task, function: functions[0]! };
  }

  /** `size` tasks stacked: x [size, n, ...inputShape], y [size, n, ...outputShape]. */
  metaBatch(rng: Rng, size: number, shots: number, queries: number, opts: { backend?: BackendName | Backend } = {}): Task & { functions: P[] } {
    if (!Number.isInteger(size) || size < 1) throw new ShapeError(`FunctionTasks.metaBatch: size must be a positive integer, got ${size}`);
    const { task, functions } = this.draw(rng, size, shots, queries, opts, true);
    return { ...task, functions };
  }

  private draw(rng: Rng, size: number, shots: number, queries: number, opts: { backend?: BackendName | Backend }, stacked: boolean): { task: Task; functions: P[] } {
    for (const [k, v] of [['shots', shots], ['queries', queries]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ShapeError(`FunctionTasks.sample: ${k} must be a positive integer, got ${v}`);
    }
    const dx = numelOf(this.inputShape), dy = numelOf(this.outputShape);
    const sx = new Float32Array(size * shots * dx), sy = new Float32Array(size * shots * dy);
    const qx = new Float32Array(size * queries * dx), qy = new Float32Array(size * queries * dy);
    const functions: P[] = [];
    for (let b = 0; b < size; b++) {
      const f = this.family.sampleFunction(rng);
      functions.push(f);
      for (const [xs, ys, n] of [[sx, sy, shots], [qx, qy, queries]] as const) {
        for (let i = b * n; i < (b + 1) * n; i++) {
          this.family.sampleInput(rng, xs, i * dx);
          this.family.evaluate(f, xs, i * dx, ys, i * dy);
        }
      }
    }
    const lead = (n: number) => (stacked ? [size, n] : [n]);
    const o = { backend: opts.backend };
    return {
      task: {
        support: { x: tensor(sx, [...lead(shots), ...this.inputShape], o), y: tensor(sy, [...lead(shots), ...this.outputShape], o) },
        query: { x: tensor(qx, [...lead(queries), ...this.inputShape], o), y: tensor(qy, [...lead(queries), ...this.outputShape], o) },
      },
      functions,
    };
  }
}
