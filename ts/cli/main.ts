#!/usr/bin/env node
// The metagrad command line: `metagrad train <algo> ...`, `metagrad eval --checkpoint DIR`.
// With no arguments it runs the embedded default, MAML on sinusoid regression.

import '../backend/js/register.js';
import '../backend/native/register.js';
import '../backend/webgpu/register.js';
import { CliError, MetagradError } from '../core/errors.js';
import { initBackend, setBackend, shutdownBackends, currentBackend } from '../backend/registry.js';
import { EVAL_FLAGS, TRAIN_FLAGS, parseArgs, trainConfig, usage, BACKENDS } from './args.js';
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

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv.length === 0 ? ['train', 'maml', '--task', 'sinusoid'] : argv;
  if (cmd === '--help' || cmd === 'help' || cmd === '-h') {
    console.log(usage());
    return;
  }
  if (cmd === 'train') {
    const { positional, flags } = parseArgs(rest, TRAIN_FLAGS);
    if (flags['help']) return void console.log(usage());
    if (positional.length > 1) throw new CliError(`train takes one algorithm, got ${positional.join(' ')}`);
    const cfg = trainConfig(positional[0], flags);
    await selectBackend(cfg.backend);
    console.log(`backend: ${currentBackend().name}`);
    await train(cfg, Boolean(flags['resume']));
    return;
  }
  if (cmd === 'eval') {
    const { positional, flags } = parseArgs(rest, EVAL_FLAGS);
    if (flags['help']) return void console.log(usage());
    if (positional.length > 0) throw new CliError(`eval takes no positional arguments, got ${positional.join(' ')}`);
    if (typeof flags['checkpoint'] !== 'string') throw new CliError('eval needs --checkpoint DIR (a folder written by metagrad train --out DIR)');
    await selectBackend(flags['backend'] as string | undefined);
    await evalRun(flags['checkpoint'], {
      tasks: flags['tasks'] as number | undefined, split: flags['split'] as string | undefined, data: flags['data'] as string | undefined,
      seed: flags['seed'] as number | undefined, testSteps: flags['testSteps'] as number | undefined,
    });
    return;
  }
  throw new CliError(`unknown command '${cmd}'; valid: train, eval, help`);
}

main(process.argv.slice(2))
  .catch((e: unknown) => {
    if (e instanceof MetagradError) {
      console.error(`metagrad: ${e.name}: ${e.message}`);
      if (e instanceof CliError) console.error('run `metagrad --help` for the flags');
    } else console.error(e);
    process.exitCode = e instanceof CliError ? 2 : 1;
  })
  .finally(() => shutdownBackends());
