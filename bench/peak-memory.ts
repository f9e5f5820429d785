// Peak backend memory: every kernel of a backend wrapped so liveBytes is sampled after each
// call (shared by bench/meta.ts and bench/metric.ts).

import type { Backend } from '../ts/index.js';

/** Wrap every kernel of a backend so liveBytes is sampled after each call; returns a peak reader. */
export function instrument(backend: Backend): { reset(): void; peak(): number; restore(): void } {
  const b = backend as unknown as Record<string, unknown>;
  const originals = new Map<string, unknown>();
  let peak = 0;
  const names = new Set<string>();
  for (let o: object | null = backend; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) for (const k of Object.getOwnPropertyNames(o)) names.add(k);
  for (const k of names) {
    if (k === 'constructor' || k === 'memory' || k === 'free' || typeof b[k] !== 'function') continue;
    const f = b[k] as (...a: unknown[]) => unknown;
    originals.set(k, Object.prototype.hasOwnProperty.call(b, k) ? f : undefined);
    b[k] = function (this: unknown, ...args: unknown[]) {
      const r = f.apply(backend, args);
      const live = backend.memory().liveBytes;
      if (live > peak) peak = live;
      return r;
    };
  }
  return {
    reset: () => (peak = backend.memory().liveBytes),
    peak: () => peak,
    restore: () => {
      for (const [k, f] of originals) {
        if (f === undefined) delete b[k];
        else b[k] = f;
      }
    },
  };
}
