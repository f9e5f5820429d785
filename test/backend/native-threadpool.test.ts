// The native thread pool under stress (issue 14 item 19: a lost completion signal once hung
// a training run at 0% CPU). Hundreds of thousands of tiny parallel_for jobs, oversubscribed,
// every task's run count checked; a hang fails at the timeout instead of hanging the suite.
// The longer run is `npm run soak:threadpool`.

import test from 'tape';
import { addonPath } from '../../ts/backend/native/addon.js';
import { nativeOrWhy, reportMissingNative } from './native-helpers.js';
import { oversubscribedThreads, runPoolCheck } from '../helpers/pool-check.js';

const { native, why } = nativeOrWhy();

if (!native) {
  reportMissingNative('native thread pool', why);
} else {
  for (const [threads, maxTasks, jobs] of [[oversubscribedThreads(), 64, 500_000], [3, 8, 300_000]] as const) {
    test(`native thread pool: ${jobs} tiny jobs of up to ${maxTasks} tasks on ${threads} threads, one busy process`, async (t) => {
      const r = await runPoolCheck({ addon: addonPath(), jobs, maxTasks, threads, busy: 1, timeoutMs: 60_000 });
      t.notOk(r.hung, `finished without hanging (${r.ms} ms)`);
      t.equal(r.status, 0, `the check process exited cleanly ${r.stderr.trim().slice(0, 300)}`);
      t.equal(r.wrong, 0, 'every task of every job ran exactly once before parallel_for returned');
    });
  }
}
