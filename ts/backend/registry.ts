// Which backends exist, which one new tensors go to, and how to switch.
// js is always there; native registers itself if its addon loads; webgpu needs an
// asynchronous start (an adapter request), so it is made ready with `await initBackend`.

import { envVar } from '../core/env.js';
import { BackendError, ValueError } from '../core/errors.js';
import { describe } from '../core/shape.js';
import type { Backend } from './kernels.js';

export type BackendName = 'js' | 'native' | 'webgpu' | (string & {});

interface Entry {
  create: () => Backend | Promise<Backend>;
  instance?: Backend;
  pending?: Promise<Backend>;
  /** Why it could not be created, once known. */
  failure?: string;
}

const entries = new Map<string, Entry>();
let current: Backend | null = null;
const defaultOrder: readonly string[] = ['native', 'js'];

export function registerBackend(name: string, create: () => Backend | Promise<Backend>): void {
  if (typeof name !== 'string' || name === '') throw new ValueError(`registerBackend: name must be a non-empty string, got ${describe(name)}`);
  if (typeof create !== 'function') throw new ValueError(`registerBackend: create must be a function returning a Backend (or a promise of one), got ${describe(create)}`);
  entries.set(name, { create });
}

export function registeredBackends(): string[] {
  return [...entries.keys()];
}

/** Create (once) and return a backend; rejects with a BackendError saying why it is unavailable. */
export async function initBackend(name: BackendName): Promise<Backend> {
  const e = entry(name, 'initBackend');
  if (e.instance) return e.instance;
  if (e.failure) throw new BackendError(`initBackend: ${e.failure}`);
  e.pending ??= Promise.resolve()
    .then(() => e.create())
    .then((b) => created(name, b))
    .then(
      (b) => (e.instance = b),
      (err: unknown) => {
        e.failure = `backend '${name}' is unavailable: ${err instanceof Error ? err.message : String(err)}`;
        e.pending = undefined;
        throw new BackendError(`initBackend: ${e.failure}`);
      },
    );
  return e.pending;
}

/** A backend that can start synchronously (js, native), or one already initialized. */
export function getBackend(name?: BackendName): Backend {
  return backendNamed(name, 'getBackend');
}

/** @internal getBackend with the caller named in its errors (withBackend, tensor's backend option, ...). */
export function backendNamed(name: BackendName | undefined, who: string): Backend {
  if (name === undefined) return currentBackend();
  const e = entry(name, who);
  if (e.instance) return e.instance;
  if (e.failure) throw new BackendError(`${who}: ${e.failure}`);
  let made: Backend | Promise<Backend>;
  try {
    made = e.create();
    if (!(made instanceof Promise)) made = created(name, made);
  } catch (err) {
    e.failure = `backend '${name}' is unavailable: ${err instanceof Error ? err.message : String(err)}`;
    throw new BackendError(`${who}: ${e.failure}`);
  }
  if (made instanceof Promise) {
    made.catch(() => undefined);
    throw new BackendError(`${who}: backend '${name}' starts asynchronously: call 'await initBackend("${name}")' before using it`);
  }
  e.instance = made;
  return made;
}

/** What a registered create() made must at least look like a Backend. */
function created(name: string, b: unknown): Backend {
  if (b === null || typeof b !== 'object' || typeof (b as Partial<Backend>).supportsDType !== 'function') {
    throw new Error(`its create() returned ${describe(b)}, not a Backend`);
  }
  return b as Backend;
}

/** Whether a backend could be used now (creating it if it starts synchronously). */
export function backendAvailable(name: BackendName): boolean {
  try {
    getBackend(name);
    return true;
  } catch {
    return false;
  }
}

/** Why a backend is unavailable (after a failed attempt), or undefined. */
export function backendFailure(name: BackendName): string | undefined {
  return entries.get(name)?.failure;
}

/** The backend new tensors go to: set by setBackend, else native if it loads, else js. */
export function currentBackend(): Backend {
  if (current) return current;
  const envName = envVar('METAGRAD_BACKEND');
  const order = envName ? [envName] : defaultOrder;
  for (const n of order) {
    if (!entries.has(n)) continue;
    try {
      current = backendNamed(n, envName ? 'METAGRAD_BACKEND' : 'currentBackend');
      return current;
    } catch (err) {
      if (envName) throw err;
    }
  }
  current = backendNamed('js', 'currentBackend');
  return current;
}

/** Make a backend the default for new tensors (it must be initialized: see initBackend). */
export function setBackend(name: BackendName): Backend {
  current = backendNamed(name, 'setBackend');
  return current;
}

/** Run fn with another default backend, restoring the previous one after. */
export function withBackend<T>(name: BackendName, fn: () => T): T {
  if (typeof fn !== 'function') throw new ValueError(`withBackend: fn must be a function, got ${typeof fn}`);
  const prev = current;
  current = backendNamed(name, 'withBackend');
  try {
    return fn();
  } finally {
    current = prev;
  }
}

function entry(name: unknown, who: string): Entry {
  const e = typeof name === 'string' ? entries.get(name) : undefined;
  if (!e) throw new BackendError(`${who}: unknown backend ${typeof name === 'string' ? `'${name}'` : describe(name)}; registered: ${[...entries.keys()].join(', ')}`);
  return e;
}

/** Release every created backend (devices, threads) so the process can exit. */
export function shutdownBackends(): void {
  for (const e of entries.values()) {
    e.instance?.dispose?.();
    e.instance = undefined;
    e.pending = undefined;
  }
  current = null;
}
