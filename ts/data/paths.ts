// Where data sets live on disk (Node only): an explicit folder, else METAGRAD_<NAME>, else
// $METAGRAD_DATA/<name>, else the per-user cache ~/.cache/metagrad/<name> (XDG_CACHE_HOME
// honoured). Nothing is looked up relative to the package: an installed package has no data
// beside it. A miss names every folder tried and the ways to point at the data.

import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkArgs, optional, str } from '../core/args.js';
import { DataError } from '../core/errors.js';
import { envVar } from '../core/env.js';

/** The per-user folder for data set `name` (and for caches of it): ~/.cache/metagrad/<name>. */
export function userDataDir(name: string): string {
  checkArgs('userDataDir', [name], { name: str });
  const base = envVar('XDG_CACHE_HOME') || join(homedir(), '.cache');
  return resolve(base, 'metagrad', name);
}

export interface DataCandidate {
  dir: string;
  /** where the folder came from, for error messages: 'root option', 'METAGRAD_DATA', ... */
  from: string;
}

/** The folders to try for data set `name`, in order; only `explicit` when one is given. */
export function dataCandidates(name: string, explicit?: string): DataCandidate[] {
  checkArgs('dataCandidates', [name, explicit], { name: str, explicit: optional(str) });
  if (explicit !== undefined) return [{ dir: resolve(explicit), from: 'the path given' }];
  const out: DataCandidate[] = [];
  const own = `METAGRAD_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const ownDir = envVar(own), all = envVar('METAGRAD_DATA');
  if (ownDir) out.push({ dir: resolve(ownDir), from: own });
  if (all) out.push({ dir: resolve(all, name), from: 'METAGRAD_DATA' });
  out.push({ dir: userDataDir(name), from: 'the per-user data folder' });
  return out;
}

/**
 * The first candidate folder that `accept` takes, or a DataError naming every folder tried,
 * what was expected there (`expected`) and how to point at the data.
 */
export function findDataDir(fn: string, name: string, explicit: string | undefined, expected: string, accept: (dir: string) => boolean, cliFlag = '--data PATH'): string {
  const tried = dataCandidates(name, explicit);
  for (const c of tried) if (accept(c.dir)) return c.dir;
  const list = tried.map((c) => `${c.dir} (${c.from})`).join(', ');
  const own = `METAGRAD_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  throw new DataError(
    `${fn}: no ${expected} found; looked in ${list}. ` +
      (explicit !== undefined
        ? `Check the path.`
        : `Pass the folder (the root option, or ${cliFlag} on the CLI), set ${own} to it, set METAGRAD_DATA to a folder holding ${name}/, or put the files into ${userDataDir(name)}.`),
  );
}

/** Whether dir exists and is a folder. */
export function isDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Whether we may write into dir. The mode bits are honoured even for root (whom access()
 * always allows): a folder marked read-only stays untouched.
 */
export function isWritableDir(dir: string): boolean {
  try {
    if ((statSync(dir).mode & 0o222) === 0) return false;
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where a cache derived from the data in `dataDir` goes: beside the data when writable, else the per-user folder. */
export function cacheDirFor(name: string, dataDir: string, explicit?: string): string {
  if (explicit !== undefined) return resolve(explicit);
  return isWritableDir(dataDir) ? dataDir : userDataDir(name);
}
