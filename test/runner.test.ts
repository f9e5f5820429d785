// The test runner itself: a file that cannot load and a test that throws fail on their
// own, the rest of the run goes on, and the closing line counts passed, failed, skipped.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Compiled to build/test/runner.test.js; the runner's own files stay in test/.
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => join(root, 'test', 'fixtures', 'runner', name);

test('runner: a broken file and throwing tests fail alone, later tests still run', async (t) => {
  const { countTapLine, newTapCounts, tapSummary } = await import(pathToFileURL(join(root, 'test', 'tap-count.mjs')).href);
  const r = spawnSync(process.execPath, [join(root, 'test', 'tape-all.mjs'), fixture('throws-at-load.mjs'), fixture('mixed.mjs')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const out = r.stdout;
  const counts = newTapCounts();
  for (const line of out.split('\n')) countTapLine(line, counts);
  t.match(out, /not ok \d+ TypeError: fixture: no data here/, 'the unloadable file reports its error');
  t.match(out, /throws-at-load\.mjs: the test file loads/, 'named after the file');
  t.match(out, /not ok \d+ TypeError: Cannot set properties of undefined/, 'the synchronous throw fails its test');
  t.match(out, /not ok \d+ Error: fixture: rejected/, 'the rejected async test fails');
  t.match(out, /ok \d+ fixture: ran after the throws/, 'the tests after them ran');
  t.deepEqual(counts, { pass: 1, fail: 3, skip: 2 }, `closing line: ${tapSummary(counts)}`);
  t.notEqual(r.status, 0, 'the run exits non-zero');
});
