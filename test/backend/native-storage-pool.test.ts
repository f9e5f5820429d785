// The native backend's host buffer pool (issue 14 item 17): size classes serve any dtype and
// length of their class, the cap counts per-buffer overhead, idle buffers are released.

import test from 'tape';
import { BUFFER_OVERHEAD, HostBufferPool, hostSizeClass } from '../../ts/backend/native/storage-pool.js';
import { nativeOrWhy, reportMissingNative } from './native-helpers.js';

test('native storage pool: size classes are at most 12.5% above the request and cover it', (t) => {
  let worst = 0;
  for (let b = 1; b < 70000; b += 37) {
    const c = hostSizeClass(b);
    if (c < b) t.fail(`class ${c} below request ${b}`);
    if (b > 64) worst = Math.max(worst, c / b - 1);
    if (hostSizeClass(c) !== c) t.fail(`class ${c} is not its own class`);
  }
  t.ok(worst <= 0.125, `worst rounding ${(100 * worst).toFixed(1)}%`);
  t.equal(hostSizeClass(1), 64, 'at least 64 bytes');
  t.end();
});

test('native storage pool: a freed buffer serves a different length or dtype of its class', (t) => {
  const p = new HostBufferPool(1 << 20);
  const a = p.take(40 * 4); // 40 float32
  t.equal(p.give(a), 'pooled');
  t.equal(p.give(a), 'double-free', 'a second give of the same buffer is a double free');
  const b = p.take(19 * 8); // 19 float64: same 160-byte class
  t.equal(b, a, 'reused across length and dtype');
  t.equal(p.bytes, 0);
  t.equal(p.give(new ArrayBuffer(100)), 'dropped', 'a buffer that is not a class size is not pooled');
  t.end();
});

test('native storage pool: the cap counts per-buffer overhead, and idle buffers are released', (t) => {
  const cap = 10 * (64 + BUFFER_OVERHEAD);
  const p = new HostBufferPool(cap, 1000);
  const bufs = Array.from({ length: 12 }, () => p.take(8));
  const results = bufs.map((b) => p.give(b));
  t.equal(results.filter((r) => r === 'pooled').length, 10, `10 tiny buffers fill a ${cap}-byte cap (payload ${10 * 64} bytes)`);
  t.ok(p.footprint <= cap);
  // a window in which only 3 of the 10 are ever taken: the other 7 are released at its end
  p.releaseIdle();
  for (let i = 0; i < 50; i++) {
    const held = [p.take(8), p.take(8), p.take(8)];
    for (const h of held) p.give(h);
  }
  p.releaseIdle();
  t.equal(p.buffers, 3, 'only the buffers the window needed stay pooled');
  t.equal(p.releasedBytes, 7 * 64, 'the rest went back to the garbage collector');
  t.end();
});

const { native, why } = nativeOrWhy();
if (!native) reportMissingNative('native storage pool', why);
else {
  test('native storage pool: uploads come from the pool and return to it', (t) => {
    const before = native.memory();
    const a = native.upload(Float32Array.from({ length: 40 }, (_, i) => i), 'float32');
    t.deepEqual(Array.from(native.readSync!(a)), Array.from({ length: 40 }, (_, i) => i), 'values uploaded');
    native.free(a);
    const pooled = native.memory().pooledBytes;
    const b = native.upload(Float32Array.from({ length: 37 }, () => 1), 'float32');
    t.equal(native.memory().pooledBytes, pooled - hostSizeClass(40 * 4), 'a shorter upload of the same class reuses it');
    t.equal(native.readSync!(b).length, 37, 'the storage has the exact length');
    native.free(b);
    t.equal(native.memory().liveBytes, before.liveBytes);
    t.end();
  });
}
