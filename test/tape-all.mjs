// Load every test file into one tape run (one process, one WebGPU device), then release
// the backends so the process can exit: a live Dawn device keeps Node alive.
import tape from 'tape';
import { pathToFileURL } from 'node:url';
import { shutdownBackends } from '../build/ts/index.js';

tape.wait();
tape.onFinish(() => shutdownBackends());
for (const f of process.argv.slice(2)) await import(pathToFileURL(f).href);
tape.run();
