// 10,000 training steps of a small MLP on webgpu (forward, grad, SGD update, dispose) keep
// GPU memory flat: live storages and bytes return to their baseline, and the buffer pool
// stops growing once it holds one step's working set (no buffer is created after warm-up).
// A read every 500 steps keeps the CPU from queueing unbounded work ahead of the GPU.
// Bind groups (Dawn objects the JS API cannot destroy: only the GC releases them) must stop
// being created once the loop has settled (issue 14 item 18: ~one bind group per dispatch grew RSS 289 → 580 MB in 100 MAML
// iterations). `npm run soak:webgpu` runs sinusoid MAML for thousands of meta-iterations;
// test/backend/webgpu-soak.test.ts runs it for 200 in a child process and asserts flat RSS.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { webgpuOrSkip } from '../helpers/webgpu.js';

test('webgpu memory: 10,000 MLP training steps keep the pool statistics flat', async (t) => {
  const backend = await webgpuOrSkip(t);
  if (!backend) return;
  const rng = new mg.Rng(0);
  // Built in a scope: Rng.normal with a std leaves its unscaled draw to the GC (a ts/tensor issue).
  const { X, Y, p: p0 } = mg.scope(() => {
    const X = rng.normal([16, 3], 0, 1, { backend });
    return {
      X, Y: mg.sum(mg.sin(X), 1, { keepDims: true }),
      p: { w1: rng.normal([3, 8], 0, 0.5, { backend }), b1: mg.zeros([8], { backend }), w2: rng.normal([8, 1], 0, 0.5, { backend }) },
    };
  });
  let p = p0;
  const lossOf = (q: typeof p) => mg.mse(mg.matmul(mg.relu(mg.add(mg.matmul(X, q.w1), q.b1)), q.w2), Y);
  const step = () => {
    const next = mg.scope(() => {
      const g = mg.grad(lossOf)(p);
      return { w1: mg.sub(p.w1, mg.mul(g.w1, 0.05)), b1: mg.sub(p.b1, mg.mul(g.b1, 0.05)), w2: mg.sub(p.w2, mg.mul(g.w2, 0.05)) };
    });
    mg.disposeAll(p);
    p = next;
  };
  const lossNow = async () => {
    const l = mg.scope(() => lossOf(p));
    const v = await l.item();
    l.dispose();
    return v;
  };
  // Tensors other test files dropped without dispose() are freed by the GC's finalizers at
  // unpredictable times; collect them now (the runner passes --expose-gc) so they cannot
  // move the counts during the loop.
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const first = await lossNow();
  for (let i = 0; i < 20; i++) step();
  await lossNow();
  await settle();
  const m0 = backend.memory();
  const tensors0 = mg.liveTensorCount();
  let rss0 = 0;
  let maxLive = 0, maxPooled = 0, maxGpu = 0, groupsAt1000 = 0;
  for (let i = 1; i <= 10000; i++) {
    step();
    if (i % 500 === 0) {
      await lossNow();
      const m = backend.memory();
      maxLive = Math.max(maxLive, m.liveBytes);
      maxPooled = Math.max(maxPooled, m.pooledBytes);
      maxGpu = Math.max(maxGpu, m['gpuBytes']!);
      if (i === 1000) {
        groupsAt1000 = m['bindGroupsCreated']!;
        // Dawn and the Vulkan driver grow their own pools over the first steps: RSS is
        // compared from here on.
        await settle();
        rss0 = process.memoryUsage().rss / 2 ** 20;
      }
    }
  }
  await settle();
  const m1 = backend.memory();
  const rss1 = process.memoryUsage().rss / 2 ** 20;
  const dispatches = m1['dispatches']! - m0['dispatches']!;
  t.equal(m1['bindGroupsCreated'], groupsAt1000, `no bind group created after step 1,000 (${groupsAt1000 - m0['bindGroupsCreated']!} in the first 1,000 steps, ${dispatches} dispatches in all)`);
  // This process runs every other test file too, whose leftovers move RSS by tens of MB: the
  // flat-RSS check runs in a process of its own (webgpu-soak.test.ts); here it is reported.
  t.comment(`RSS after a full GC, step 1,000 → 10,000: ${rss0.toFixed(1)} → ${rss1.toFixed(1)} MB`);
  t.equal(mg.liveTensorCount(), tensors0, `live tensors back at ${tensors0}`);
  t.equal(m1.liveStorages, m0.liveStorages, `live storages back at ${m0.liveStorages}`);
  t.equal(m1.liveBytes, m0.liveBytes, `live bytes back at ${m0.liveBytes} (max seen ${maxLive})`);
  t.ok(maxGpu <= m0['gpuBytes']!, `GPU bytes held by the pool never grew past the warm-up's ${m0['gpuBytes']} (max ${maxGpu}, pooled max ${maxPooled})`);
  t.equal(m1['buffersCreated'], m0['buffersCreated'], `no buffer created after warm-up (${m0['buffersCreated']} created, ${m1['buffersReused']! - m0['buffersReused']!} reuses since)`);
  const last = await lossNow();
  t.ok(Number.isFinite(last) && last < first, `trained: loss ${first.toFixed(4)} -> ${last.toFixed(4)}`);
  t.comment(`dispatches ${m1['dispatches']! - m0['dispatches']!}, submits ${m1['submits']! - m0['submits']!}, pipelines ${m1['pipelines']}`);
  mg.disposeAll([p, X, Y]);
});
