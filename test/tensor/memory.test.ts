// 10,000 training iterations run in flat memory: live tensors and backend storage return
// to their baseline every step (the engine frees what the tape saved once no gradient needs it).
import test from 'tape';
import * as mg from '../../ts/index.js';

test('memory: 10,000 training steps on js keep live tensors and bytes flat', (t) => {
  const backend = mg.getBackend('js');
  const rng = new mg.Rng(0);
  const X = rng.normal([8, 2], 0, 1, { backend });
  const Y = rng.normal([8, 1], 0, 1, { backend });
  let p = { w1: rng.normal([2, 4], 0, 0.5, { backend }), w2: rng.normal([4, 1], 0, 0.5, { backend }) };
  const lossOf = (q: typeof p) => mg.mse(mg.matmul(mg.tanh(mg.matmul(X, q.w1)), q.w2), Y);
  const step = () => {
    const next = mg.scope(() => {
      const g = mg.grad(lossOf)(p);
      return { w1: mg.sub(p.w1, mg.mul(g.w1, 0.1)), w2: mg.sub(p.w2, mg.mul(g.w2, 0.1)) };
    });
    mg.disposeAll(p);
    p = next;
  };
  for (let i = 0; i < 10; i++) step();
  const tensors0 = mg.liveTensorCount(), bytes0 = backend.memory().liveBytes;
  let maxTensors = 0, maxBytes = 0;
  for (let i = 0; i < 10000; i++) {
    step();
    if (i % 500 === 0) {
      maxTensors = Math.max(maxTensors, mg.liveTensorCount());
      maxBytes = Math.max(maxBytes, backend.memory().liveBytes);
    }
  }
  t.equal(mg.liveTensorCount(), tensors0, `live tensors back at ${tensors0} (max seen ${maxTensors})`);
  t.equal(backend.memory().liveBytes, bytes0, `live bytes back at ${bytes0} (max seen ${maxBytes})`);
  t.ok(maxTensors <= tensors0, 'never grew between checkpoints');
  const loss = mg.scope(() => lossOf(p).itemSync());
  t.ok(Number.isFinite(loss), `still training (loss ${loss.toFixed(4)})`);
  t.end();
});

test('memory: exact second-order steps (created graphs) also free everything', (t) => {
  const base = mg.liveTensorCount();
  const w = mg.tensor([0.5, -0.3], { requiresGrad: true });
  for (let i = 0; i < 200; i++) {
    mg.scope(() => {
      const inner = mg.grad((v: mg.Tensor) => mg.sum(mg.mul(mg.sin(v), v)));
      mg.grad((v: mg.Tensor) => mg.sum(mg.square(mg.sub(v, mg.mul(inner(v), 0.1)))))(w);
    });
  }
  t.equal(mg.liveTensorCount(), base + 1, 'only w is left');
  w.dispose();
  t.equal(mg.liveTensorCount(), base, 'and then nothing');
  t.end();
});

test('memory: ops outside any scope leave no hidden temporaries', (t) => {
  const a = mg.tensor([[1, 2], [3, 4]]);
  const x = mg.zeros([1, 2, 4, 4]);
  const w = mg.ones([3, 2, 3, 3]);
  const labels = mg.tensor([0, 1], { dtype: 'int32' });
  const ab = mg.broadcastTo(a, [3, 2, 2]), at = mg.transpose(a), xt = mg.transpose(x);
  const cases: [string, () => mg.Tensor][] = [
    ['mul by a number', () => mg.mul(a, 2)],
    ['matmul of a transposed broadcast view', () => mg.matmul(ab, at)],
    ['softmax on axis 0', () => mg.softmax(a, 0)],
    ['crossEntropy', () => mg.crossEntropy(a, labels)],
    ['conv2d of a strided input', () => mg.conv2d(xt, w, { padding: 1 })],
    ['avgPool2d', () => mg.avgPool2d(x, { kernelSize: 2 })],
    ['variance', () => mg.variance(a, 1)],
  ];
  for (const [name, f] of cases) {
    const before = mg.liveTensorCount();
    const y = f();
    t.equal(mg.liveTensorCount(), before + 1, `${name}: only the result remains`);
    y.dispose();
  }
  t.end();
});
