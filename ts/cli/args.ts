// Command-line flags: parsed, checked, and reported with the valid values when wrong.

import { CliError } from '../core/errors.js';

export const ALGOS = ['maml', 'fomaml', 'reptile', 'anil', 'metasgd', 'mamlpp', 'imaml'] as const;
export type Algo = (typeof ALGOS)[number];
export const TASKS = ['sinusoid', 'omniglot'] as const;
export const BACKENDS = ['js', 'native', 'webgpu'] as const;

/** Everything a training run is configured by (written to config.json, read by eval and --resume). */
export interface TrainConfig {
  algo: Algo;
  task: (typeof TASKS)[number];
  ways: number;
  shots: number;
  queries: number;
  innerSteps: number;
  testSteps: number;
  innerLr: number;
  metaBatch: number;
  iterations: number;
  metaLr: number;
  backend: (typeof BACKENDS)[number] | undefined;
  data: string | undefined;
  out: string;
  seed: number;
  valEvery: number;
  valTasks: number;
  evalTasks: number;
  hidden: number;
  imageSize: number;
  checkpointEvery: number;
  checkpointSegment: number | undefined;
  lambda: number;
  cgSteps: number;
  baseline: boolean;
  firstOrder: boolean;
}

interface FlagSpec {
  key: keyof TrainConfig | 'checkpoint' | 'tasks' | 'resume' | 'split' | 'help';
  kind: 'int' | 'num' | 'str' | 'bool';
  choices?: readonly string[];
  min?: number;
  help: string;
}

export const FLAGS: Record<string, FlagSpec> = {
  '--task': { key: 'task', kind: 'str', choices: TASKS, help: 'task distribution (default sinusoid)' },
  '--ways': { key: 'ways', kind: 'int', min: 2, help: 'classes per episode (omniglot; default 5)' },
  '--shots': { key: 'shots', kind: 'int', min: 1, help: 'support examples per class (omniglot; default 1) or points (sinusoid; default 10)' },
  '--queries': { key: 'queries', kind: 'int', min: 1, help: 'query examples per class / points (default 15 omniglot, 10 sinusoid)' },
  '--inner-steps': { key: 'innerSteps', kind: 'int', min: 1, help: 'inner gradient steps in meta-training (default 1 sinusoid, 5 omniglot, 10 imaml)' },
  '--test-steps': { key: 'testSteps', kind: 'int', min: 1, help: 'inner steps at meta-test time (default: --inner-steps; MAML used 10 on omniglot)' },
  '--inner-lr': { key: 'innerLr', kind: 'num', help: 'inner learning rate α (default 0.01 sinusoid, 0.4 omniglot)' },
  '--meta-batch': { key: 'metaBatch', kind: 'int', min: 1, help: 'tasks per meta-update (default 10 sinusoid, 32 omniglot)' },
  '--iterations': { key: 'iterations', kind: 'int', min: 1, help: 'meta-updates (default 2000 sinusoid, 300 omniglot)' },
  '--meta-lr': { key: 'metaLr', kind: 'num', help: 'outer Adam learning rate (default 0.001; Reptile: outer SGD step ε, default 1 annealed to 0)' },
  '--backend': { key: 'backend', kind: 'str', choices: BACKENDS, help: 'compute backend (default: native if built, else js)' },
  '--data': { key: 'data', kind: 'str', help: 'Omniglot folder (default $METAGRAD_OMNIGLOT, $METAGRAD_DATA/omniglot, ~/.cache/metagrad/omniglot)' },
  '--out': { key: 'out', kind: 'str', help: 'output folder for checkpoints, config and curves (default runs/<algo>-<task>)' },
  '--seed': { key: 'seed', kind: 'int', min: 0, help: 'random seed (default 0)' },
  '--val-every': { key: 'valEvery', kind: 'int', min: 1, help: 'validate every N iterations (default iterations/10)' },
  '--val-tasks': { key: 'valTasks', kind: 'int', min: 1, help: 'tasks per validation (default 100)' },
  '--eval-tasks': { key: 'evalTasks', kind: 'int', min: 1, help: 'meta-test tasks for the final result (default 600)' },
  '--hidden': { key: 'hidden', kind: 'int', min: 1, help: 'Conv-4 channels (default 64)' },
  '--image-size': { key: 'imageSize', kind: 'int', min: 16, help: 'Omniglot image side (default 28)' },
  '--checkpoint-every': { key: 'checkpointEvery', kind: 'int', min: 1, help: 'save a checkpoint every N iterations (default: at each validation)' },
  '--checkpoint-segment': { key: 'checkpointSegment', kind: 'int', min: 1, help: 'exact MAML: recompute the inner loop in segments of N steps (gradient checkpointing)' },
  '--lambda': { key: 'lambda', kind: 'num', help: 'iMAML regularization λ (default 1)' },
  '--cg-steps': { key: 'cgSteps', kind: 'int', min: 1, help: 'iMAML conjugate-gradient iterations (default 5)' },
  '--no-baseline': { key: 'baseline', kind: 'bool', help: 'sinusoid: skip the jointly pretrained baseline' },
  '--first-order': { key: 'firstOrder', kind: 'bool', help: 'first-order meta-gradients (maml, anil, metasgd)' },
  '--resume': { key: 'resume', kind: 'bool', help: 'continue the run saved in --out' },
  '--checkpoint': { key: 'checkpoint', kind: 'str', help: 'eval: the run folder to evaluate' },
  '--tasks': { key: 'tasks', kind: 'int', min: 1, help: 'eval: number of meta-test tasks (default 600)' },
  '--split': { key: 'split', kind: 'str', choices: ['test', 'val'], help: 'eval: which held-out classes (default test)' },
  '--help': { key: 'help', kind: 'bool', help: 'show this help' },
};

export type Parsed = { positional: string[]; flags: Record<string, string | number | boolean> };

export function parseArgs(argv: readonly string[], allowed: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const spec = FLAGS[name];
    if (!spec || !allowed.includes(name)) throw new CliError(`unknown flag '${name}'; valid flags: ${allowed.join(' ')}`);
    if (spec.kind === 'bool') {
      flags[spec.key] = spec.key === 'baseline' ? false : true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--'))) throw new CliError(`flag ${name} needs a value (${spec.help})`);
    if (spec.choices && !spec.choices.includes(raw)) throw new CliError(`${name} must be one of ${spec.choices.join(', ')}; got '${raw}'`);
    if (spec.kind === 'str') flags[spec.key] = raw;
    else {
      const v = Number(raw);
      if (!Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) throw new CliError(`${name} must be ${spec.kind === 'int' ? 'an integer' : 'a number'}; got '${raw}'`);
      if (spec.min !== undefined && v < spec.min) throw new CliError(`${name} must be >= ${spec.min}; got ${v}`);
      if (spec.kind === 'num' && !(v > 0)) throw new CliError(`${name} must be positive; got ${v}`);
      flags[spec.key] = v;
    }
  }
  return { positional, flags };
}

export const TRAIN_FLAGS = Object.keys(FLAGS).filter((f) => !['--checkpoint', '--tasks', '--split'].includes(f));
export const EVAL_FLAGS = ['--checkpoint', '--tasks', '--split', '--backend', '--data', '--seed', '--test-steps', '--help'];

/** A full training configuration from the flags, with each task's defaults. */
export function trainConfig(algo: string | undefined, flags: Parsed['flags']): TrainConfig {
  if (algo === undefined) throw new CliError(`train needs an algorithm: metagrad train <${ALGOS.join('|')}> [flags]`);
  if (!(ALGOS as readonly string[]).includes(algo)) throw new CliError(`unknown algorithm '${algo}'; valid: ${ALGOS.join(', ')}`);
  const f = flags as Partial<TrainConfig>;
  const task = f.task ?? 'sinusoid';
  const sine = task === 'sinusoid';
  const iterations = f.iterations ?? (sine ? 2000 : 300);
  // iMAML needs its regularized inner problem roughly solved: more steps by default.
  const innerSteps = f.innerSteps ?? (algo === 'imaml' ? 10 : sine ? 1 : 5);
  const cfg: TrainConfig = {
    algo: algo as Algo,
    task,
    ways: f.ways ?? 5,
    shots: f.shots ?? (sine ? 10 : 1),
    queries: f.queries ?? (sine ? 10 : 15),
    innerSteps,
    testSteps: f.testSteps ?? innerSteps,
    innerLr: f.innerLr ?? (sine ? 0.01 : 0.4),
    metaBatch: f.metaBatch ?? (sine ? 10 : 32),
    iterations,
    metaLr: f.metaLr ?? (algo === 'reptile' ? 1 : 0.001),
    backend: f.backend,
    data: f.data,
    out: f.out ?? `runs/${algo}-${task}`,
    seed: f.seed ?? 0,
    valEvery: f.valEvery ?? Math.max(1, Math.round(iterations / 10)),
    valTasks: f.valTasks ?? 100,
    evalTasks: f.evalTasks ?? 600,
    hidden: f.hidden ?? 64,
    imageSize: f.imageSize ?? 28,
    checkpointEvery: f.checkpointEvery ?? Math.max(1, Math.round(iterations / 10)),
    checkpointSegment: f.checkpointSegment,
    lambda: f.lambda ?? 1,
    cgSteps: f.cgSteps ?? 5,
    baseline: f.baseline ?? sine,
    firstOrder: f.firstOrder ?? false,
  };
  if (cfg.checkpointSegment !== undefined && cfg.algo !== 'maml') throw new CliError(`--checkpoint-segment applies to exact maml only, not '${cfg.algo}'`);
  if (cfg.firstOrder && !['maml', 'anil', 'metasgd'].includes(cfg.algo)) throw new CliError(`--first-order applies to maml, anil and metasgd, not '${cfg.algo}'`);
  if (cfg.baseline && !sine) throw new CliError('the pretrained baseline is the sinusoid comparison of the MAML paper; drop it for omniglot');
  return cfg;
}

export function usage(): string {
  const lines = (names: readonly string[]) => names.map((n) => `  ${n.padEnd(22)} ${FLAGS[n]!.help}${FLAGS[n]!.choices ? ` [${FLAGS[n]!.choices!.join('|')}]` : ''}`).join('\n');
  return `metagrad — meta-learning on a hand-written autodiff engine

usage:
  metagrad train <${ALGOS.join('|')}> [flags]
  metagrad eval --checkpoint DIR [flags]
  metagrad                     (= metagrad train maml --task sinusoid)

train flags:
${lines(TRAIN_FLAGS.filter((f) => f !== '--help'))}

eval flags:
${lines(EVAL_FLAGS.filter((f) => f !== '--help'))}`;
}
