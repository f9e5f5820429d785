// A run folder as one consistent unit. checkpoint.safetensors carries, in its metadata, the
// iteration and a hash of the configuration it belongs to; config.json (configuration,
// iteration, result) is written beside it and must agree, so a kill between the two writes
// is detected and refused instead of resumed from a mismatched pair. The history is
// appended to history.jsonl one line per event; lines past the checkpoint are lost work
// and are dropped on resume, so a resumed run continues exactly where the checkpoint was.

import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError, DataError } from '../core/errors.js';
import { writeFileAtomicSync } from '../io/atomic-file.js';
import { loadSafetensors, loadTree, saveSafetensors } from '../io/index.js';
import { parseHeaderAs } from '../io/safetensors.js';
import { disposeAll } from '../tensor/scope.js';
import type { ParamTree } from '../tensor/tree.js';

export const RUN_FORMAT = 'metagrad-run';
export const RUN_VERSION = 2;

export interface RunRecord<C = Record<string, unknown>> {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  config: C;
  /** the configuration of the task source's comparison learner (sinusoid: the pretrained baseline), if trained */
  baseline?: C;
  /** meta-updates done */
  iteration: number;
  result?: Record<string, unknown>;
}

/** One line of history.jsonl: a training iteration, or a validation. */
export type HistoryEvent =
  | { kind: 'train'; series: string; iteration: number; loss: number; accuracy: number | null }
  | { kind: 'val'; series: string; iteration: number; mean: number; ci95: number };

export const runFiles = (dir: string) => ({
  checkpoint: join(dir, 'checkpoint.safetensors'),
  config: join(dir, 'config.json'),
  history: join(dir, 'history.jsonl'),
  svg: join(dir, 'curve.svg'),
  png: join(dir, 'curve.png'),
});

/** A stable hash of the configuration (keys sorted; not its folder, `out`, so runs can move), stored in the checkpoint it belongs to. */
export function configHash(config: unknown): string {
  if (config && typeof config === 'object' && 'out' in config) config = { ...config, out: undefined };
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(config))).digest('hex').slice(0, 32);
}

const writeAtomic = (path: string, data: string | Uint8Array) => writeFileAtomicSync('metagrad train', path, data);

/**
 * mkdir -p one level at a time: Node's recursive mkdir never returns for some paths
 * (under /proc it retries forever), which is how an unwritable --out used to hang the CLI.
 */
function makeDirs(abs: string): void {
  const missing: string[] = [];
  let p = abs;
  while (!existsSync(p)) {
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const d of missing.reverse()) mkdirSync(d);
}

/** Fail before any training if DIR cannot hold the run's files (a file in the way, /proc, a full disk, no permission). */
export function checkWritable(dir: string): void {
  const abs = resolve(dir);
  try {
    makeDirs(abs);
    const probe = join(abs, `.metagrad-write-probe.${process.pid}`);
    writeFileSync(probe, new Uint8Array(64 * 1024));
    rmSync(probe);
  } catch (e) {
    throw new CliError(`--out ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose a writable folder`);
  }
}

/** Write the checkpoint (with the iteration and config hash inside) and then config.json. */
export async function saveRun<C>(dir: string, record: RunRecord<C>, trees: Record<string, ParamTree>, curves?: { svg: string; png: Uint8Array }): Promise<void> {
  const f = runFiles(dir);
  try {
    makeDirs(resolve(dir));
    await saveSafetensors(f.checkpoint, trees, { format: RUN_FORMAT, version: String(RUN_VERSION), iteration: String(record.iteration), config: configHash(record.config) });
    writeAtomic(f.config, `${JSON.stringify(record, null, 1)}\n`);
    if (curves) {
      writeAtomic(f.svg, curves.svg);
      writeAtomic(f.png, curves.png);
    }
  } catch (e) {
    if (e instanceof DataError || e instanceof CliError) throw e;
    throw new CliError(`cannot write the run to ${dir}: ${(e as Error).message}`);
  }
}

export function appendHistory(dir: string, events: readonly HistoryEvent[]): void {
  if (events.length === 0) return;
  try {
    appendFileSync(runFiles(dir).history, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  } catch (e) {
    throw new CliError(`cannot append to ${runFiles(dir).history}: ${(e as Error).message}`);
  }
}

/** Replace history.jsonl with these events. */
export function writeHistory(dir: string, events: readonly HistoryEvent[]): void {
  writeAtomic(runFiles(dir).history, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

/** Every history event up to `iteration` (later lines are work done after the last checkpoint). */
export function readHistory(dir: string, iteration: number): HistoryEvent[] {
  const path = runFiles(dir).history;
  if (!existsSync(path)) return [];
  const events: HistoryEvent[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let e: HistoryEvent;
    try {
      e = JSON.parse(line) as HistoryEvent;
    } catch {
      // Only the last line can be torn by a kill mid-append.
      if (i >= lines.length - 2) return;
      throw new DataError(`${path}: line ${i + 1} is not JSON`);
    }
    if (e.iteration <= iteration) events.push(e);
  });
  return events;
}

/** config.json, checked, and checked against the checkpoint beside it. */
export function readRun<C>(dir: string, validate: (config: unknown) => C): RunRecord<C> {
  const f = runFiles(dir);
  if (!existsSync(f.config)) throw new DataError(`no run in ${dir}: ${f.config} is missing (train with --out ${dir} first)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(f.config, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`${f.config} is not valid JSON: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || raw['format'] !== RUN_FORMAT || raw['version'] !== RUN_VERSION) {
    throw new DataError(`${f.config} is not a metagrad run record (format '${RUN_FORMAT}', version ${RUN_VERSION})`);
  }
  const config = validate(raw['config']);
  const iteration = raw['iteration'];
  const total = (config as { iterations?: unknown }).iterations;
  if (!Number.isInteger(iteration) || (iteration as number) < 0 || (typeof total === 'number' && (iteration as number) > total)) {
    throw new DataError(`${f.config}: iteration must be an integer from 0 to the run's ${String(total)} iterations, got ${JSON.stringify(iteration)}`);
  }
  if (!existsSync(f.checkpoint)) throw new DataError(`${dir}: ${f.checkpoint} is missing beside config.json`);
  const meta = parseHeaderAs('loadSafetensors', readFileSync(f.checkpoint), f.checkpoint).metadata;
  if (meta['format'] !== RUN_FORMAT) throw new DataError(`${f.checkpoint} is not a metagrad run checkpoint (no '${RUN_FORMAT}' metadata)`);
  // The pair is checked on the configuration as written (not as re-read: an option added since
  // the run was saved fills in there, and must not orphan the run).
  const written = configHash(raw['config']);
  if (meta['iteration'] !== String(iteration) || meta['config'] !== written) {
    throw new DataError(
      `${dir}: checkpoint.safetensors (iteration ${meta['iteration']}) and config.json (iteration ${String(iteration)}${meta['config'] !== written ? ', a different configuration' : ''}) do not belong together — the run was interrupted between writing them or one was edited; refusing to resume from a mismatched pair (start a new --out, or restore both files from a backup)`,
    );
  }
  return {
    format: RUN_FORMAT, version: RUN_VERSION, config, iteration: iteration as number,
    ...(raw['baseline'] ? { baseline: raw['baseline'] as C } : {}), ...(raw['result'] ? { result: raw['result'] as Record<string, unknown> } : {}),
  };
}

/** Load the checkpoint's trees into the structure of `like` (which is disposed). */
export async function loadRunTrees<T extends Record<string, ParamTree>>(dir: string, like: T): Promise<T> {
  const { tensors } = await loadSafetensors(runFiles(dir).checkpoint);
  const out = Object.fromEntries(Object.entries(like).map(([k, v]) => [k, loadTree(v, tensors, k)])) as T;
  disposeAll(like);
  return out;
}
