// Where data lives: the package root (found from this module's own location, not the
// working directory) and the default data folders beside it.

import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | null | undefined;

/** The nearest ancestor of this module with metagrad's package.json (works from ts/, dist/ and build/). */
export function packageRoot(): string | null {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'metagrad') return (cachedRoot = dir);
      } catch {
        /* not ours */
      }
    }
    const up = dirname(dir);
    if (up === dir) return (cachedRoot = null);
    dir = up;
  }
}

/**
 * Candidate folders for a data set: `<ancestor>/shared/data/<name>` for the package root's
 * parent and every ancestor above it (so `../shared/data/<name>` first), nearest first.
 */
export function sharedDataCandidates(name: string): string[] {
  const root = packageRoot();
  if (!root) return [];
  const out: string[] = [];
  let dir = dirname(root);
  for (;;) {
    out.push(join(dir, 'shared', 'data', name));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
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

/** A writable cache folder: `<package>/.cache/<name>`, else ~/.cache/metagrad/<name>. */
export function defaultCacheDir(name: string): string {
  const root = packageRoot();
  if (root && isWritableDir(root)) return join(root, '.cache', name);
  return resolve(homedir(), '.cache', 'metagrad', name);
}
