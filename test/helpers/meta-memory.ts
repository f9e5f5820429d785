// A meta-training loop that watches memory, shared by the flat-memory test and
// `npm run soak:memory`: sinusoid MAML (the paper's MLP, K=10, one inner step, Adam) on a
// given backend, new task data uploaded every iteration, and every `every` iterations the
// resident set size after a full GC (taskBatch: the tasks adapted together), the backend's pooled bytes and the live tensor count.

import * as mg from '../../ts/index.js';

export interface MemorySample {
  iteration: number;
  rssMB: number;
  pooledBytes: number;
  liveTensors: number;
  liveBytes: number;
}

export function sinusoidMemoryRun(backend: mg.Backend, iters: number, batch: number, every: number, onSample?: (s: MemorySample) => void, taskBatch = 0): MemorySample[] {
  const tasksOf = new mg.SinusoidTasks();
  const model = mg.sinusoidMLP();
  const samples: MemorySample[] = [];
  mg.withBackend(backend.name, () => {
    const learner = mg.maml(model, { innerSteps: 1, innerLr: 0.01, taskBatch });
    const opt = mg.adam({ lr: 0.001 });
    let meta = learner.init(model.init(new mg.Rng(0)));
    let state = opt.init(meta);
    const rng = new mg.Rng(1);
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 1; i <= iters; i++) {
      const tasks = Array.from({ length: batch }, () => tasksOf.sample(rng, 10, 10));
      const r = mg.metaStep(learner, meta, opt, state, tasks);
      mg.disposeAll(tasks);
      meta = r.meta;
      state = r.optState;
      r.loss.itemSync();
      r.loss.dispose();
      r.accuracy?.dispose();
      if (i % every === 0) {
        gc?.();
        const m = backend.memory();
        const s = { iteration: i, rssMB: process.memoryUsage().rss / 2 ** 20, pooledBytes: m.pooledBytes, liveTensors: mg.liveTensorCount(), liveBytes: m.liveBytes };
        samples.push(s);
        onSample?.(s);
      }
    }
    mg.disposeAll(meta);
    mg.disposeAll(state);
  });
  return samples;
}
