// Run folders: checkpoint.safetensors (meta-parameters under 'meta.', outer optimizer
// state under 'opt.'), config.json (the configuration, progress and history: what eval
// and --resume read), curve.svg (the learning curve). Files are replaced atomically.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { loadSafetensors, loadTree, saveSafetensors } from '../io/index.js';
import { disposeAll } from '../tensor/scope.js';
import type { ParamTree } from '../tensor/tree.js';
import type { RunConfig } from './args.js';

export interface History {
  /** [iteration, mean post-adaptation query loss, accuracy or null] */
  train: [number, number, number | null][];
  /** [iteration, validation metric (accuracy or MSE), ci95] */
  val: [number, number, number][];
}

export interface RunState {
  version: 1;
  config: RunConfig;
  /** the configuration of the task source's comparison learner (sinusoid: the pretrained baseline), if trained */
  baseline?: RunConfig;
  /** meta-updates done */
  iteration: number;
  history: History;
  result?: Record<string, unknown>;
}

async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function saveRun(dir: string, state: RunState, trees: { meta: ParamTree; opt: ParamTree }, svg?: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await saveSafetensors(join(dir, 'checkpoint.safetensors'), trees, { algo: state.config.algo, task: state.config.task, iteration: String(state.iteration) });
  await writeAtomic(join(dir, 'config.json'), `${JSON.stringify(state, null, 1)}\n`);
  if (svg) await writeAtomic(join(dir, 'curve.svg'), svg);
}

export async function saveTree(path: string, tree: ParamTree): Promise<void> {
  await saveSafetensors(path, tree);
}

export async function readRunState(dir: string): Promise<RunState> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new DataError(`no run in ${dir}: ${path} is missing (train with --out ${dir} first)`);
  let s: RunState;
  try {
    s = JSON.parse(await readFile(path, 'utf8')) as RunState;
  } catch (e) {
    throw new DataError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (s.version !== 1 || !s.config || typeof s.iteration !== 'number') throw new DataError(`${path} is not a metagrad run config (version 1)`);
  return s;
}

/** Load a saved tree into the structure of `like` (which is disposed). */
export async function loadInto<T extends ParamTree>(path: string, like: T): Promise<T> {
  if (!existsSync(path)) throw new DataError(`checkpoint file ${path} is missing`);
  const { tensors } = await loadSafetensors(path);
  const out = loadTree(like, tensors);
  disposeAll(like);
  return out;
}
