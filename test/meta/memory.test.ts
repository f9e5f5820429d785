// Meta-training in flat memory on native (issue 14 item 17): task data is uploaded every
// iteration, and its freed buffers must be reused, not piled up in the pool (pooled bytes
// grew ~160 bytes per task and RSS 98 → 272 MB over 10,000 iterations when the pool was keyed
// by exact length and uploads bypassed it). The loop runs in a child process of its own, so
// what other test files leave behind cannot move its RSS, measured after a full GC.
// The 10,000-iteration version is `npm run soak:memory`.

import test from 'tape';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nativeOrWhy, reportMissingNative } from '../backend/native-helpers.js';
import type { MemorySample } from '../helpers/meta-memory.js';

const helper = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'meta-memory.js')).href;
const index = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'index.js')).href;
const { native, why } = nativeOrWhy();

if (!native) {
  reportMissingNative('meta memory', why);
} else {
  for (const taskBatch of [0, 4]) test(`memory: 3,000 sinusoid MAML meta-iterations on native${taskBatch ? ' (tasks adapted together, taskBatch 4)' : ''} keep RSS, pooled bytes and live tensors flat after warm-up`, (t) => {
    const script = `const mg = await import(${JSON.stringify(index)}); const { sinusoidMemoryRun } = await import(${JSON.stringify(helper)});
      const s = sinusoidMemoryRun(mg.getBackend('native'), 3000, 4, 250, undefined, ${taskBatch}); mg.shutdownBackends(); console.log(JSON.stringify(s));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, METAGRAD_BACKEND: 'native' } });
    t.equal(r.status, 0, `the loop ran (${r.signal ?? ''}${r.stderr.trim().slice(0, 300)})`);
    const samples = JSON.parse(r.stdout.trim().split('\n').pop() || '[]') as MemorySample[];
    const warm = samples.find((s) => s.iteration === 1000), last = samples[samples.length - 1];
    if (!warm || !last) {
      t.fail('no memory samples');
      t.end();
      return;
    }
    const after = samples.filter((s) => s.iteration >= 1000);
    const maxRss = Math.max(...after.map((s) => s.rssMB)), maxPooled = Math.max(...after.map((s) => s.pooledBytes));
    t.comment(`after warm-up (iteration 1,000 → 3,000): RSS ${warm.rssMB.toFixed(1)} → ${last.rssMB.toFixed(1)} MB (max ${maxRss.toFixed(1)}), pooled ${warm.pooledBytes} → ${last.pooledBytes} bytes (max ${maxPooled})`);
    t.ok(maxPooled <= warm.pooledBytes, 'pooled bytes never grow after warm-up (freed task data is reused)');
    t.ok(maxRss - warm.rssMB < 4, `RSS stays within 4 MB of its post-warm-up value (grew ${(maxRss - warm.rssMB).toFixed(1)} MB)`);
    t.ok(after.every((s) => s.liveTensors === warm.liveTensors && s.liveBytes === warm.liveBytes), `live tensors (${warm.liveTensors}) and live bytes constant`);
    t.end();
  });
}
