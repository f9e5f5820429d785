// Load every test file into one tape run (one process, one WebGPU device), then release
// the backends so the process can exit: a live Dawn device keeps Node alive.
//
// A file that cannot even load (a throw at import, a missing data set read at top level)
// becomes one failing test named after the file, and a test whose body throws
// synchronously fails on its own: the rest of the suite still runs either way.
import Test from 'tape/lib/test';
import tape from 'tape';
import { pathToFileURL } from 'node:url';
import { relative } from 'node:path';

// tape catches a rejected promise from an async test but lets a synchronous throw escape
// and end the process; wrap each test body before tape binds its methods.
const run = Test.prototype.run;
Test.prototype.run = function runCatching() {
  const body = this._cb;
  if (body && !this._skip) {
    this._cb = (t) => {
      try {
        return body(t);
      } catch (e) {
        t.ifError(e instanceof Error ? e : new Error(String(e)));
        if (!t.calledEnd) t.end();
        return undefined;
      }
    };
  }
  return run.call(this);
};

tape.wait();
let shutdown = async () => {};
try {
  ({ shutdownBackends: shutdown } = await import('../build/ts/index.js'));
} catch (e) {
  tape('test/tape-all: the library loads', (t) => {
    t.ifError(e);
    t.end();
  });
}
tape.onFinish(() => shutdown());
for (const f of process.argv.slice(2)) {
  try {
    await import(pathToFileURL(f).href);
  } catch (e) {
    tape(`${relative(process.cwd(), f)}: the test file loads`, (t) => {
      t.ifError(e instanceof Error ? e : new Error(String(e)));
      t.end();
    });
  }
}
tape.run();
