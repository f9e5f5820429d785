// Zero-size dimensions behave the same on every backend, with numpy's semantics (issue 14,
// item 10): the sum of nothing is 0, the product 1, a batch of 0 images convolves to a batch
// of 0, and gradients flow through empty tensors.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { probeBackends } from '../helpers/backends.js';

const probes = await probeBackends();
const backends = ['js', ...probes.filter((p) => p.available).map((p) => p.name)];

async function shapeAndValues(t: mg.Tensor): Promise<[number[], number[]]> {
  return [t.shape.slice(), Array.from(await t.data())];
}

for (const backend of backends) {
  const o = { backend };

  test(`empty ${backend}: reductions over a zero-size dim`, async (t) => {
    const x = mg.zeros([0, 3], o);
    t.deepEqual(await shapeAndValues(mg.sum(x)), [[], [0]], 'sum of all of [0, 3] is 0');
    t.deepEqual(await shapeAndValues(mg.sum(x, 0)), [[3], [0, 0, 0]], 'sum over the empty axis');
    t.deepEqual(await shapeAndValues(mg.sum(x, 1)), [[0], []], 'sum over the other axis');
    t.deepEqual(await shapeAndValues(mg.sum(x, 0, { keepDims: true })), [[1, 3], [0, 0, 0]], 'keepDims');
    t.deepEqual(await shapeAndValues(mg.sum(mg.zeros([2, 0, 2], o), [1, 2])), [[2], [0, 0]], 'two axes, one empty');
    t.throws(() => mg.max(x, 0), mg.ShapeError, 'max over nothing is an error (as in PyTorch)');
    t.throws(() => mg.mean(x, 0), mg.ShapeError, 'mean over nothing is an error');
    t.end();
  });

  test(`empty ${backend}: gradients through empty tensors`, async (t) => {
    const g = mg.grad((x: mg.Tensor) => mg.sum(mg.mul(mg.exp(x), 2)))(mg.zeros([0, 3], o)) as mg.Tensor;
    t.deepEqual(await shapeAndValues(g), [[0, 3], []], 'the gradient of an empty input is empty');
    const w = mg.tensor([[1, 2], [3, 4]], o);
    const gw = mg.grad((w: mg.Tensor) => mg.add(mg.sum(mg.matmul(mg.zeros([0, 2], o), w)), mg.sum(w)))(w) as mg.Tensor;
    t.deepEqual(await shapeAndValues(gw), [[2, 2], [1, 1, 1, 1]], 'a parameter used on an empty batch gets only the rest');
    t.deepEqual(await shapeAndValues(mg.matmul(mg.zeros([2, 0], o), mg.zeros([0, 3], o))), [[2, 3], [0, 0, 0, 0, 0, 0]], 'matmul with k = 0 is zeros');
    t.end();
  });

  test(`empty ${backend}: conv2d with a batch of 0`, async (t) => {
    const x = mg.zeros([0, 2, 5, 5], o);
    const w = mg.ones([3, 2, 3, 3], o);
    t.deepEqual(await shapeAndValues(mg.conv2d(x, w, { padding: 1 })), [[0, 3, 5, 5], []], 'forward');
    const [gx, gw] = mg.grad((x: mg.Tensor, w: mg.Tensor) => mg.sum(mg.conv2d(x, w, { padding: 1 })), [0, 1])(x, w) as mg.Tensor[];
    t.deepEqual(await shapeAndValues(gx!), [[0, 2, 5, 5], []], 'input gradient');
    t.deepEqual(await shapeAndValues(gw!), [[3, 2, 3, 3], new Array(54).fill(0)], 'filter gradient is 0');
    t.deepEqual((await shapeAndValues(mg.maxPool2d(mg.zeros([0, 1, 4, 4], o), { kernelSize: 2 })))[0], [0, 1, 2, 2], 'maxPool2d');
    t.end();
  });
}
