// Command-line flags, generated from the learner and task-source registries: every option
// of a learner, of a task source, the common options and the run's own (backend, output
// folder, validation, checkpoints) is a --kebab-case flag, checked against its spec, and
// reported with the valid values when wrong. Nothing here names a particular learner.

import { CliError, ValueError } from '../core/errors.js';
import { type OptionSpec, type OptionValue, type ResolvedOptions, defaultHelp, flagOf, resolveOptions } from '../core/options.js';
import { taskEntries, taskEntry } from '../data/registry.js';
import { COMMON_OPTIONS, type LearnerEntry, learnerEntries, learnerOptions, lookupLearner } from '../meta/registry.js';

export const BACKENDS = ['js', 'native', 'webgpu'] as const;

/** What a training run is configured by (written to config.json, read by eval and --resume): the learner's name and every resolved option. */
export type RunConfig = ResolvedOptions & { algo: string };

const tenth = (o: ResolvedOptions) => Math.max(1, Math.round((o['iterations'] as number) / 10));

/** Options every run has that only the command line knows: where it computes and writes, how often it validates and saves. */
export const RUN_OPTIONS: Record<string, OptionSpec> = {
  backend: { kind: 'str', default: undefined, choices: BACKENDS, help: 'compute backend (default: native if built, else js)' },
  out: { kind: 'str', default: (o) => `runs/${String(o['algo'])}-${o.task}`, help: 'output folder for checkpoints, config and curves (default runs/<learner>-<task>)' },
  valEvery: { kind: 'int', default: tenth, min: 1, help: 'validate every N iterations (default iterations/10)' },
  valTasks: { kind: 'int', default: 100, min: 1, help: 'tasks per validation' },
  evalTasks: { kind: 'int', default: 600, min: 1, help: 'meta-test tasks for the final result' },
  checkpointEvery: { kind: 'int', default: tenth, min: 1, help: 'save a checkpoint every N iterations (default iterations/10)' },
};

/** Flags of the commands themselves. */
export const COMMAND_OPTIONS: Record<string, OptionSpec> = {
  task: { kind: 'str', default: undefined, help: "task source (default: the learner's first)" },
  resume: { kind: 'bool', default: false, help: 'continue the run saved in --out' },
  checkpoint: { kind: 'str', default: undefined, help: 'eval: the run folder to evaluate' },
  tasks: { kind: 'int', default: 600, min: 1, help: 'eval: number of meta-test tasks' },
  split: { kind: 'str', default: 'test', choices: ['test', 'val'], help: 'eval: which held-out classes' },
  help: { kind: 'bool', default: false, help: 'show this help' },
};
const EVAL_KEYS = ['checkpoint', 'tasks', 'split', 'backend', 'seed', 'help'];

/** A boolean option whose default is on is switched off by --no-<name>; every other option is --<name>. */
export function flagName(key: string, spec: OptionSpec): string {
  return spec.kind === 'bool' && spec.default === true ? `--no-${flagOf(key).slice(2)}` : flagOf(key);
}

interface FlagInfo {
  key: string;
  spec: OptionSpec;
}

/** Every flag any learner, task source or command takes, by name. */
function flagTable(): Map<string, FlagInfo> {
  const table = new Map<string, FlagInfo>();
  const add = (specs: Record<string, OptionSpec>) => {
    for (const [key, spec] of Object.entries(specs)) {
      const name = flagName(key, spec);
      if (!table.has(name)) table.set(name, { key, spec });
    }
  };
  add(COMMAND_OPTIONS);
  add(COMMON_OPTIONS);
  for (const e of learnerEntries()) add(e.options);
  for (const t of taskEntries()) add(t.options);
  add(RUN_OPTIONS);
  return table;
}

export interface Parsed {
  positional: string[];
  /** option key -> value, as given */
  given: Record<string, OptionValue>;
  /** flag name per given key (for messages) */
  flags: Record<string, string>;
}

export function parseArgs(argv: readonly string[], validFlags: () => readonly string[]): Parsed {
  const table = flagTable();
  const positional: string[] = [];
  const given: Record<string, OptionValue> = {};
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const info = table.get(name);
    if (!info) throw new CliError(`unknown flag '${name}'; valid flags: ${validFlags().join(' ')}`);
    flags[info.key] = name;
    if (info.spec.kind === 'bool') {
      given[info.key] = !name.startsWith('--no-');
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--'))) throw new CliError(`flag ${name} needs a value (${info.spec.help})`);
    if (info.spec.kind === 'str') given[info.key] = raw;
    else {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || (info.spec.kind === 'int' && !Number.isInteger(v))) throw new CliError(`${name} must be ${info.spec.kind === 'int' ? 'an integer' : 'a number'}; got '${raw}'`);
      given[info.key] = v;
    }
  }
  return { positional, given, flags };
}

/** Everything a training run of `entry` on `task` takes: common, the learner's own, the task's own, the run's. */
export function runSpecs(entry: LearnerEntry, task: string): Record<string, OptionSpec> {
  return { ...learnerOptions(entry), ...taskEntry(task).options, ...RUN_OPTIONS };
}

/** The flags `metagrad train <learner>` accepts. */
export function trainFlags(entry: LearnerEntry | undefined, task: string | undefined): string[] {
  const specs: Record<string, OptionSpec> = { task: COMMAND_OPTIONS['task']!, ...(entry ? runSpecs(entry, task ?? entry.tasks[0]!) : COMMON_OPTIONS), resume: COMMAND_OPTIONS['resume']!, help: COMMAND_OPTIONS['help']! };
  return Object.entries(specs).map(([k, s]) => flagName(k, s));
}

export function evalFlags(): string[] {
  return EVAL_KEYS.map((k) => flagName(k, (COMMAND_OPTIONS[k] ?? RUN_OPTIONS[k] ?? COMMON_OPTIONS[k])!));
}

/** The learner and task source a `train` command names, checked. */
export function learnerAndTask(name: string | undefined, given: Parsed['given']): { entry: LearnerEntry; task: string } {
  const names = learnerEntries().map((e) => e.name);
  if (name === undefined) throw new CliError(`train needs a learner: metagrad train <${names.join('|')}> [flags]`);
  const entry = asCli(() => lookupLearner(name, 'train'));
  const all = taskEntries().map((t) => t.name);
  const task = given['task'] === undefined ? entry.tasks[0]! : String(given['task']);
  if (!all.includes(task)) throw new CliError(`--task must be one of ${all.join(', ')}; got '${task}'`);
  if (!entry.tasks.includes(task)) throw new CliError(`${entry.name} trains on ${entry.tasks.join(', ')}; not on '${task}'`);
  return { entry, task };
}

/** A full training configuration from the flags: each given value checked, every other option at its default for this learner and task. */
export function trainConfig(entry: LearnerEntry, task: string, p: Parsed): RunConfig {
  const specs = runSpecs(entry, task);
  const options: Record<string, OptionValue> = {};
  for (const [key, value] of Object.entries(p.given)) {
    if (key === 'task' || key === 'resume' || key === 'help') continue;
    if (!(key in specs)) throw new CliError(`${p.flags[key]} ${appliesTo(key)}; not to ${entry.name} on ${task}`);
    options[key] = value;
  }
  return asCli(() => resolveOptions(entry.name, specs, options, { task, algo: entry.name }, (k) => flagName(k, specs[k]!))) as RunConfig;
}

/** Who takes an option: 'applies to maml, anil' or 'applies to task sinusoid'. */
function appliesTo(key: string): string {
  const owners = [
    ...learnerEntries().filter((e) => key in e.options).map((e) => e.name),
    ...taskEntries().filter((t) => key in t.options).map((t) => `task ${t.name}`),
  ];
  return owners.length > 0 ? `applies to ${owners.join(', ')}` : 'applies to eval only';
}

/** Registry and option errors are the user's flags at fault: exit code 2 and the help hint. */
export function asCli<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(e.message);
    throw e;
  }
}

/** One line per flag: name, help, default, the learners or tasks it applies to. */
function flagLines(entries: readonly { key: string; spec: OptionSpec; owners?: string[]; defaults?: string }[]): string {
  return entries.map(({ key, spec, owners, defaults }) => {
    const name = flagName(key, spec);
    const arg = spec.kind === 'bool' ? '' : spec.kind === 'str' ? (spec.choices ? ` [${spec.choices.join('|')}]` : ' S') : ' N';
    const dflt = defaults ?? defaultHelp(spec);
    return `  ${(name + arg).padEnd(30)} ${spec.help}${dflt ? ` (${dflt})` : ''}${owners ? ` {${owners.join(', ')}}` : ''}`;
  }).join('\n');
}

/** The options the given owners declare, merged by key: one line each, with each owner's default where they differ. */
function ownOptionLines(owners: readonly { name: string; specs: Record<string, OptionSpec> }[]): string {
  const keys: string[] = [];
  for (const o of owners) for (const k of Object.keys(o.specs)) if (!keys.includes(k)) keys.push(k);
  return flagLines(keys.map((key) => {
    const having = owners.filter((o) => key in o.specs);
    const byDefault = new Map<string, string[]>();
    for (const o of having) {
      const d = defaultHelp(o.specs[key]!);
      byDefault.set(d, [...(byDefault.get(d) ?? []), o.name]);
    }
    const defaults = byDefault.size <= 1 ? undefined : [...byDefault].map(([d, names]) => `${names.join(', ')}: ${d || 'no default'}`).join('; ');
    // a flag several owners declare with their own help (--data: each source's folder) shows each one's
    const byHelp = new Map<string, string[]>();
    for (const o of having) byHelp.set(o.specs[key]!.help, [...(byHelp.get(o.specs[key]!.help) ?? []), o.name]);
    const help = byHelp.size <= 1 ? having[0]!.specs[key]!.help : [...byHelp].map(([h, names]) => `${names.join(', ')}: ${h}`).join('; ');
    return { key, spec: { ...having[0]!.specs[key]!, help }, owners: having.map((o) => o.name), defaults };
  }));
}

export function usage(only?: LearnerEntry): string {
  const learners = only ? [only] : learnerEntries();
  const width = Math.max(...learnerEntries().map((e) => e.name.length), ...taskEntries().map((t) => t.name.length)) + 2;
  const families = learners.map((e) => `  ${e.name.padEnd(width)} ${e.family.padEnd(18)} ${e.summary} [${e.tasks.join(', ')}]`).join('\n');
  const first = learnerEntries()[0];
  const common = Object.entries({ task: COMMAND_OPTIONS['task']!, ...COMMON_OPTIONS }).map(([key, spec]) => {
    const overridden = learners.filter((e) => e.overrides && key in e.overrides);
    const defaults = overridden.length === 0 ? undefined : [defaultHelp(spec), ...overridden.map((e) => `${e.name}: ${defaultHelp({ ...spec, default: e.overrides![key] })}`)].filter(Boolean).join('; ');
    return { key, spec, defaults };
  });
  const run = Object.entries({ ...RUN_OPTIONS, resume: COMMAND_OPTIONS['resume']! }).map(([key, spec]) => ({ key, spec }));
  const tasks = taskEntries().filter((t) => learners.some((e) => e.tasks.includes(t.name)));
  return `metagrad — meta-learning on a hand-written autodiff engine

usage:
  metagrad train <learner> [flags]
  metagrad train <learner> --help   (that learner's flags only)
  metagrad eval --checkpoint DIR [flags]
  metagrad                          (= metagrad train ${first?.name ?? '<learner>'} --task ${first?.tasks[0] ?? '<task>'})

learners:
${families}

task sources:
${tasks.map((t) => `  ${t.name.padEnd(width)} ${t.kind.padEnd(18)} ${t.summary}`).join('\n')}

train flags (every learner):
${flagLines(common)}
${flagLines(run)}

learner flags {the learners that take them}:
${ownOptionLines(learners.map((e) => ({ name: e.name, specs: e.options })))}

task flags {the task sources that take them}:
${ownOptionLines(tasks.map((t) => ({ name: t.name, specs: t.options })))}

eval flags (and --ways --shots --queries of the meta-test episodes, and any learner or task flag of the run that does not shape the trained network, e.g. --test-steps, --data):
${flagLines(EVAL_KEYS.filter((k) => k !== 'help').map((key) => ({ key, spec: key === 'seed' ? { ...COMMON_OPTIONS['seed']!, default: undefined, help: 'seed of the meta-test task stream (default: the stream of the run\'s final result)' } : (COMMAND_OPTIONS[key] ?? RUN_OPTIONS[key])! })))}`;
}
