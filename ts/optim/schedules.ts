// Learning-rate schedules: functions of the step (updates done so far, from 0).

import { ValueError } from '../core/errors.js';
import type { LR } from './optimizer.js';

const at = (lr: LR, s: number): number => (typeof lr === 'function' ? lr(s) : lr);

function positive(v: number, what: string, fn: string): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new ValueError(`schedules.${fn}: ${what} must be a positive number, got ${v}`);
}

export const schedules = {
  constant(lr: number): (step: number) => number {
    return () => lr;
  },
  /** lr · gamma^floor(step / every) */
  step(lr: number, every: number, gamma = 0.1): (step: number) => number {
    positive(every, 'every', 'step');
    return (s) => lr * Math.pow(gamma, Math.floor(s / every));
  },
  /** Cosine decay from lr to minLr over `total` steps, then minLr. */
  cosine(lr: number, total: number, minLr = 0): (step: number) => number {
    positive(total, 'total', 'cosine');
    return (s) => minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(s, total)) / total))) / 2;
  },
  /** Linear warm-up over `steps` steps (from inner(steps)/steps up to inner(steps)), then `inner`. */
  warmup(inner: LR, steps: number): (step: number) => number {
    positive(steps, 'steps', 'warmup');
    return (s) => (s < steps ? (at(inner, steps) * (s + 1)) / steps : at(inner, s));
  },
};
