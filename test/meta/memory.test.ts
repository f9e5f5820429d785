// Meta-training in flat memory on native (issue 14 item 17): task data is uploaded every
// iteration, and its freed buffers must be reused, not piled up in the pool (pooled bytes
// grew ~160 bytes per task and RSS 98 → 272 MB over 10,000 iterations when the pool was keyed
// by exact length and uploads bypassed it). Resident memory is measured after a full GC.
// The 10,000-iteration version is `npm run soak:memory`.

import test from 'tape';
import { nativeOrWhy, reportMissingNative } from '../backend/native-helpers.js';
import { sinusoidMemoryRun } from '../helpers/meta-memory.js';

const { native, why } = nativeOrWhy();

if (!native) {
  reportMissingNative('meta memory', why);
} else {
  test('memory: 3,000 sinusoid MAML meta-iterations on native keep RSS, pooled bytes and live tensors flat after warm-up', (t) => {
    if (!(globalThis as { gc?: () => void }).gc) t.comment('no global gc() (run with --expose-gc, as npm test does): RSS is read without a full collection');
    const samples = sinusoidMemoryRun(native, 3000, 4, 250);
    const warm = samples.find((s) => s.iteration === 500)!, last = samples[samples.length - 1]!;
    const after = samples.filter((s) => s.iteration >= 500);
    const maxRss = Math.max(...after.map((s) => s.rssMB)), maxPooled = Math.max(...after.map((s) => s.pooledBytes));
    t.comment(`after warm-up (iteration 500 → 3000): RSS ${warm.rssMB.toFixed(1)} → ${last.rssMB.toFixed(1)} MB (max ${maxRss.toFixed(1)}), pooled ${warm.pooledBytes} → ${last.pooledBytes} bytes (max ${maxPooled})`);
    t.ok(maxPooled <= warm.pooledBytes, 'pooled bytes never grow after warm-up (freed task data is reused)');
    t.ok(maxRss - warm.rssMB < 4, `RSS stays within 4 MB of its post-warm-up value (grew ${(maxRss - warm.rssMB).toFixed(1)} MB)`);
    t.ok(after.every((s) => s.liveTensors === warm.liveTensors && s.liveBytes === warm.liveBytes), `live tensors (${warm.liveTensors}) and live bytes constant`);
    t.end();
  });
}
