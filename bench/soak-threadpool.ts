// npm run soak:threadpool [minutes]: the native thread pool's self-check for a long time,
// oversubscribed (pool threads from 2 to 4 per core, busy processes beside it), every task
// of every job checked. The suite runs a short version (test/backend/native-threadpool.test.ts).

import { availableParallelism } from 'node:os';
import { addonPath } from '../ts/backend/native/addon.js';
import { oversubscribedThreads, runPoolCheck } from '../test/helpers/pool-check.js';

const minutes = Number(process.argv[2] ?? 10);
const deadline = Date.now() + minutes * 60_000;
const configs = [
  { threads: 2, maxTasks: 4 },
  { threads: 3, maxTasks: 8 },
  { threads: oversubscribedThreads(), maxTasks: 64 },
  { threads: 16, maxTasks: 17 },
];
let jobsDone = 0, rounds = 0, failures = 0;
console.log(`soak: native thread pool self-check for ${minutes} min on ${availableParallelism()} cores (${addonPath()})`);
while (Date.now() < deadline) {
  const c = configs[rounds % configs.length]!;
  const jobs = 1_000_000;
  const r = await runPoolCheck({ addon: addonPath(), jobs, maxTasks: c.maxTasks, threads: c.threads, busy: 1 + (rounds % 3), timeoutMs: 300_000 });
  rounds++;
  const ok = !r.hung && r.status === 0 && r.wrong === 0;
  if (ok) jobsDone += jobs;
  else failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${jobs} jobs, ${c.threads} threads, <=${c.maxTasks} tasks: ${r.hung ? 'HUNG' : `wrong ${r.wrong}`} (${r.ms} ms)${r.stderr ? ' ' + r.stderr.trim().slice(0, 200) : ''}`);
}
console.log(`${rounds} rounds, ${jobsDone} jobs checked, ${failures} failures`);
process.exit(failures ? 1 : 0);
