// WebGPU's deferred index check (issue 14, item 8): an out-of-range index in gather,
// takeAlongAxis, scatterAdd, oneHot, embedding or crossEntropy labels is flagged on the
// device, and the next read or sync raises an IndexError naming the op; nothing is
// silently clamped, and the backend keeps working afterwards.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { webgpuOrSkip } from '../helpers/webgpu.js';

const ids = (v: number[], backend: string) => mg.tensor(v, { dtype: 'int32', backend });

test('webgpu: out-of-range indices raise an IndexError at the next read, naming the op', async (t) => {
  if (!(await webgpuOrSkip(t))) return t.end();
  const B = 'webgpu';
  const x = mg.tensor([[1, 2], [3, 4], [5, 6]], { backend: B });
  const cases: [string, () => mg.Tensor, RegExp][] = [
    ['gather', () => mg.gather(x, ids([0, 3], B)), /^gather: an index of indices \[2\] is out of range \[0, 3\): found 3/],
    ['negative gather index', () => mg.gather(x, ids([-1], B), 0), /^gather: .*found -1/],
    ['takeAlongAxis', () => mg.takeAlongAxis(x, mg.tensor([[0], [2], [1]], { dtype: 'int32', backend: B }), 1), /^takeAlongAxis: .*out of range \[0, 2\): found 2/],
    ['scatterAdd', () => mg.scatterAdd(mg.ones([2, 2], { backend: B }), mg.tensor([[0, 1], [4, 0]], { dtype: 'int32', backend: B }), 0, [3, 2]), /^scatterAdd: .*found 4/],
    ['oneHot', () => mg.oneHot(ids([0, 7], B), 3), /^oneHot: .*\[0, 3\): found 7/],
    ['embedding', () => mg.embedding.apply({ table: x }, ids([1, 5], B)), /^embedding\.apply: .*found 5/],
    ['crossEntropy', () => mg.crossEntropy(mg.zeros([2, 3], { backend: B }), ids([0, 3], B)), /^crossEntropy: .*found 3/],
  ];
  for (const [name, f, re] of cases) {
    let y: mg.Tensor | null = null;
    t.doesNotThrow(() => { y = f(); }, `${name}: the op itself returns (the check is deferred)`);
    let caught: unknown = null;
    try {
      await y!.data();
    } catch (e) {
      caught = e;
    }
    t.ok(caught instanceof mg.IndexError && re.test((caught as Error).message), `${name}: the read raises ${caught instanceof Error ? caught.message : String(caught)}`);
    t.deepEqual(Array.from(await mg.gather(x, ids([2], B)).data()), [5, 6], `${name}: later reads work`);
  }
  // the first failing op is reported even when an unrelated tensor is read, or at sync()
  mg.gather(x, ids([9], B));
  mg.oneHot(ids([9], B), 2);
  const other = mg.add(x, 1);
  let first: unknown = null;
  try { await other.data(); } catch (e) { first = e; }
  t.ok(first instanceof mg.IndexError && /^gather: .*found 9/.test((first as Error).message), 'the earliest failing check is the one reported');
  mg.gather(x, ids([3], B));
  let atSync: unknown = null;
  try { await mg.getBackend(B).sync(); } catch (e) { atSync = e; }
  t.ok(atSync instanceof mg.IndexError, 'sync() raises it too');
  // valid indices cost nothing visible: values are right
  t.deepEqual(Array.from(await mg.gather(x, ids([2, 0], B)).data()), [5, 6, 1, 2], 'valid indices gather as before');
  t.end();
});
