// Atomic file writes: the target holds the old or the new bytes, never a mixture, and a
// failed write raises DataError naming the caller and the path and leaves no temporary file.
import test from 'tape';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../ts/core/errors.js';
import { writeFileAtomic, writeFileAtomicSync } from '../../ts/io/atomic-file.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-atomic-'));

test('writeFileAtomic / writeFileAtomicSync: write, overwrite, no temporary file left', async (t) => {
  const p = join(dir, 'a.bin');
  await writeFileAtomic('test', p, new Uint8Array([1, 2, 3]));
  t.deepEqual([...readFileSync(p)], [1, 2, 3], 'async write');
  writeFileAtomicSync('test', p, 'hello');
  t.equal(readFileSync(p, 'utf8'), 'hello', 'sync overwrite');
  await writeFileAtomic('test', p, 'again');
  t.equal(readFileSync(p, 'utf8'), 'again', 'async overwrite');
  t.deepEqual(readdirSync(dir), ['a.bin'], 'only the target remains');
});

test('writeFileAtomic / writeFileAtomicSync: a failed write is a DataError naming who and where; the old file stays', async (t) => {
  const p = join(dir, 'keep.txt');
  writeFileSync(p, 'old');
  const missing = join(dir, 'no-such-dir', 'x.bin');
  try {
    await writeFileAtomic('saveThing', missing, 'x', 'pass another path');
    t.fail('async write into a missing folder did not throw');
  } catch (e) {
    t.ok(e instanceof DataError && /^saveThing: cannot write .*no-such-dir\/x\.bin: .*\(pass another path\)$/.test((e as Error).message), `async: ${(e as Error).message}`);
  }
  t.throws(() => writeFileAtomicSync('saveThing', missing, 'x'), (e: unknown) => e instanceof DataError && /saveThing: cannot write .*no-such-dir/.test((e as Error).message), 'sync: DataError');
  // a folder where the file should be: the rename fails after the temporary file was written
  const asDir = join(dir, 'is-a-dir');
  mkdirSync(join(asDir, 'inner'), { recursive: true });
  try {
    await writeFileAtomic('saveThing', asDir, 'x');
    t.fail('renaming over a folder did not throw');
  } catch (e) {
    t.ok(e instanceof DataError, `rename over a folder: ${(e as Error).message}`);
  }
  t.throws(() => writeFileAtomicSync('saveThing', asDir, 'x'), DataError, 'sync rename over a folder: DataError');
  t.deepEqual(readdirSync(dir).sort(), ['a.bin', 'is-a-dir', 'keep.txt'], 'no temporary files left behind');
  t.equal(readFileSync(p, 'utf8'), 'old', 'an unrelated file is untouched');
  rmSync(dir, { recursive: true, force: true });
});
