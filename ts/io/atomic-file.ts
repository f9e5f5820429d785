// Files written whole or not at all (Node): the bytes go to a temporary file beside the
// target, which is then renamed over it, so a reader (or a run killed mid-write) never sees
// a half-written checkpoint, cache or config. A failed write removes its temporary file.

import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { DataError } from '../core/errors.js';

const tmpName = (path: string) => `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
const failure = (who: string, path: string, e: unknown, hint: string) => new DataError(`${who}: cannot write ${path}: ${(e as Error).message}${hint ? ` (${hint})` : ''}`);

/** Write `data` to `path` atomically; a failure is a DataError naming `who` and the path (plus `hint`, e.g. what to do). */
export async function writeFileAtomic(who: string, path: string, data: string | Uint8Array, hint = ''): Promise<void> {
  const tmp = tmpName(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw failure(who, path, e, hint);
  }
}

/** writeFileAtomic, synchronously. */
export function writeFileAtomicSync(who: string, path: string, data: string | Uint8Array, hint = ''): void {
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created
    }
    throw failure(who, path, e, hint);
  }
}
