// Runs the native thread pool's self-check (addon.threadPoolCheck: many tiny parallel_for
// jobs, every task counting its own runs) in a child process, oversubscribed: more pool
// threads than cores, plus `busy` spinning processes competing for the same cores. A
// deadlock shows as the child killed at the timeout, a lost or repeated task as wrong > 0.

import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface PoolCheckOptions {
  addon: string;
  jobs: number;
  maxTasks: number;
  threads: number;
  busy: number;
  timeoutMs: number;
}

export interface PoolCheckResult {
  /** tasks that did not run exactly once (null when the child gave no answer) */
  wrong: number | null;
  /** the child was killed at the timeout: the pool hung */
  hung: boolean;
  status: number | null;
  signal: string | null;
  ms: number;
  stderr: string;
}

/** Threads that oversubscribe this machine: four per core, at least 8. */
export function oversubscribedThreads(): number {
  return Math.max(8, 4 * availableParallelism());
}

export function runPoolCheck(o: PoolCheckOptions): Promise<PoolCheckResult> {
  const spinners: ChildProcess[] = [];
  for (let i = 0; i < o.busy; i++) {
    spinners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  const script = `const a = require(${JSON.stringify(o.addon)});
const wrong = a.threadPoolCheck(${o.jobs}, ${o.maxTasks});
a.shutdown();
process.stdout.write(JSON.stringify({ wrong }));`;
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], {
      env: { ...process.env, METAGRAD_THREADS: String(o.threads) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '', hung = false;
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      for (const s of spinners) s.kill('SIGKILL');
      let wrong: number | null = null;
      try {
        wrong = (JSON.parse(stdout) as { wrong: number }).wrong;
      } catch {
        wrong = null;
      }
      resolve({ wrong, hung, status, signal, ms: Date.now() - t0, stderr });
    });
  });
}
