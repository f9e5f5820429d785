#!/usr/bin/env node
// The metagrad command line: `metagrad train <learner> ...`, `metagrad eval --checkpoint DIR`.
// With no arguments it trains the first registered learner on its first task source.

import { readFileSync } from 'node:fs';
import '../backend/js/register.js';
import '../backend/native/register.js';
import '../backend/webgpu/register.js';
// Dawn as the GPU provider in Node (the Node entry, ts/index.ts, does the same; without it
// --backend webgpu found no navigator.gpu)
import '../backend/webgpu/dawn.js';
import '../data/tasks.js';
import '../meta/learners.js';
import { CliError, MetagradError } from '../core/errors.js';
import { initBackend, setBackend, shutdownBackends, currentBackend } from '../backend/registry.js';
import { learnerEntries } from '../meta/registry.js';
import { BACKENDS, type Parsed, evalFlags, learnerAndTask, parseArgs, trainConfig, trainFlags, usage } from './args.js';
import { evalRun, train } from './train.js';

async function selectBackend(name: string | undefined): Promise<void> {
  if (name === undefined) return;
  if (!(BACKENDS as readonly string[]).includes(name)) throw new CliError(`--backend must be one of ${BACKENDS.join(', ')}; got '${name}'`);
  try {
    if (name === 'webgpu') await initBackend('webgpu');
    setBackend(name);
  } catch (e) {
    throw new CliError(`--backend ${name}: ${(e as Error).message}`);
  }
}

/** The learner named first on the command line, if it is one (for the list of valid flags in an error). */
function namedLearner(argv: readonly string[]) {
  return learnerEntries().find((e) => argv.includes(e.name));
}

/** The installed package's version (package.json sits two folders above dist/cli/, three above build/ts/cli/). */
function version(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'metagrad' && pkg.version) return pkg.version;
    } catch {
      // not this layout; try the next
    }
  }
  return 'unknown';
}

async function main(argv: string[]): Promise<void> {
  const first = learnerEntries()[0]!;
  const [cmd, ...rest] = argv.length === 0 ? ['train', first.name, '--task', first.tasks[0]!] : argv;
  if (cmd === '--version' || cmd === 'version' || cmd === '-v') {
    console.log(`metagrad ${version()}`);
    return;
  }
  if (cmd === '--help' || cmd === 'help' || cmd === '-h') {
    console.log(usage());
    return;
  }
  if (cmd === 'train') {
    const p: Parsed = parseArgs(rest, () => trainFlags(namedLearner(rest), undefined));
    if (p.given['help']) return void console.log(usage(namedLearner(p.positional)));
    if (p.positional.length > 1) throw new CliError(`train takes one learner, got ${p.positional.join(' ')}`);
    const { entry, task } = learnerAndTask(p.positional[0], p.given);
    const cfg = trainConfig(entry, task, p);
    await selectBackend(cfg['backend'] as string | undefined);
    console.log(`backend: ${currentBackend().name}`);
    await train(cfg, Boolean(p.given['resume']), p.given, p.flags);
    return;
  }
  if (cmd === 'eval') {
    const p = parseArgs(rest, evalFlags);
    if (p.given['help']) return void console.log(usage());
    if (p.positional.length > 0) throw new CliError(`eval takes no positional arguments, got ${p.positional.join(' ')}`);
    const { checkpoint, tasks, split, seed, backend, help: _help, ...overrides } = p.given;
    if (typeof checkpoint !== 'string') throw new CliError('eval needs --checkpoint DIR (a folder written by metagrad train --out DIR)');
    if (split !== undefined && split !== 'test' && split !== 'val') throw new CliError(`--split must be one of test, val; got '${String(split)}'`);
    if (tasks !== undefined && !(Number.isInteger(tasks) && (tasks as number) >= 1)) throw new CliError(`--tasks must be >= 1; got ${String(tasks)}`);
    await selectBackend(backend as string | undefined);
    await evalRun(checkpoint, { tasks: tasks as number | undefined, split: split as string | undefined, seed: seed as number | undefined, overrides, flags: p.flags });
    return;
  }
  throw new CliError(`unknown command '${cmd}'; valid: train, eval, help, version`);
}

main(process.argv.slice(2))
  .catch((e: unknown) => {
    if (e instanceof MetagradError) {
      console.error(`metagrad: ${e.name}: ${e.message}`);
      if (e instanceof CliError) console.error('run `metagrad --help` for the flags');
    } else console.error(e);
    process.exitCode = e instanceof CliError ? 2 : 1;
  })
  // Exit explicitly: a live progress-bar timer or GPU device must not keep a failed run alive.
  .finally(() => {
    shutdownBackends();
    process.exit(process.exitCode ?? 0);
  });
