// Options with defaults, valid ranges and help, declared by the learner and task-source
// registries (ts/meta/registry.ts, ts/data/registry.ts): the CLI turns them into flags and
// --help, resolves them into the configuration that config.json records, and checks every
// value here, so a bad value fails the same way from code and from the command line.

import { checkArgs, fn, object, oneOf, optional, str } from './args.js';
import { ValueError } from './errors.js';

export type OptionValue = number | boolean | string;

/** Resolved options of a run: every declared option (undefined where it has no value) and the task's name. */
export type ResolvedOptions = Record<string, OptionValue | undefined> & { task: string };

/**
 * A value; or per-task values, e.g. { sinusoid: 10, default: 1 } ('default' for any other
 * task); or a function of the options resolved before it (declaration order).
 */
export type OptionDefault = OptionValue | undefined | Readonly<Record<string, OptionValue | undefined>> | ((o: ResolvedOptions) => OptionValue | undefined);

export interface OptionSpec {
  kind: 'int' | 'num' | 'bool' | 'str';
  default: OptionDefault;
  /** smallest allowed value (inclusive) */
  min?: number;
  /** largest allowed value (inclusive) */
  max?: number;
  /** values must be greater than this (a learning rate: above 0) */
  above?: number;
  choices?: readonly string[];
  help: string;
  /** part of what was trained (the network's shape or structure): eval may not change it */
  structural?: boolean;
  /**
   * The value for a saved run whose config.json predates this option: what the code did before
   * the option existed, so --resume continues such a run as it was trained (default: `default`).
   */
  absent?: OptionValue;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

const specArg = object({ kind: oneOf(['int', 'num', 'bool', 'str']) }, "an option spec { kind, default, help }");

/** `value` checked against its spec; `label` names it in the error (an option key, or a CLI flag). */
export function checkOption(label: string, spec: OptionSpec, value: unknown): OptionValue {
  checkArgs('checkOption', [label, spec], { label: str, spec: specArg });
  switch (spec.kind) {
    case 'bool':
      if (typeof value !== 'boolean') throw new ValueError(`${label} must be true or false; got ${describe(value)}`);
      return value;
    case 'str':
      if (typeof value !== 'string') throw new ValueError(`${label} must be a string; got ${describe(value)}`);
      if (spec.choices && !spec.choices.includes(value)) throw new ValueError(`${label} must be one of ${spec.choices.join(', ')}; got '${value}'`);
      return value;
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value) || (spec.kind === 'int' && !Number.isInteger(value))) {
        throw new ValueError(`${label} must be ${spec.kind === 'int' ? 'an integer' : 'a number'}; got ${describe(value)}`);
      }
      if (spec.min !== undefined && value < spec.min) throw new ValueError(`${label} must be >= ${spec.min}; got ${value}`);
      if (spec.max !== undefined && value > spec.max) throw new ValueError(`${label} must be <= ${spec.max}; got ${value}`);
      if (spec.above !== undefined && !(value > spec.above)) throw new ValueError(`${label} must be ${spec.above === 0 ? 'positive' : `> ${spec.above}`}; got ${value}`);
      return value;
    }
  }
}

/** The default of one option for the task, given the options resolved so far. */
export function defaultOf(spec: OptionSpec, resolved: ResolvedOptions): OptionValue | undefined {
  checkArgs('defaultOf', [spec, resolved], { spec: specArg, resolved: object({ task: str }, 'the options resolved so far { task, ... }') });
  const d = spec.default;
  if (typeof d === 'function') return d(resolved);
  if (d !== null && typeof d === 'object') return resolved.task in d ? d[resolved.task] : d['default'];
  return d;
}

/**
 * Every option of `specs`: the given value (checked) or the default. `base` holds what the
 * defaults may read besides the options (the task's name, ...) and is copied into the
 * result. Values and per-task defaults first, then function defaults in declaration order,
 * so a function may read any plain option and the function defaults declared before it.
 * Given keys not in `specs` are refused with ValueError naming the valid ones.
 */
export function resolveOptions(who: string, specs: OptionSpecs, given: Readonly<Record<string, unknown>>, base: ResolvedOptions, label: (key: string) => string = (k) => k): ResolvedOptions {
  checkArgs('resolveOptions', [who, specs, given, base, label], { who: str, specs: object(), given: object(), base: object({ task: str }, 'an object { task, ... }'), label: optional(fn) });
  for (const [key, spec] of Object.entries(specs)) specArg(spec, 'resolveOptions', `specs.${key}`);
  for (const key of Object.keys(given)) {
    if (!(key in specs) && given[key] !== undefined) throw new ValueError(`${who}: unknown option '${label(key)}'; valid: ${Object.keys(specs).map(label).join(', ')}`);
  }
  const out: ResolvedOptions = { ...base };
  const later: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    if (given[key] !== undefined) out[key] = checkOption(label(key), spec, given[key]);
    else if (typeof spec.default === 'function') later.push(key);
    else out[key] = checked(label(key), spec, defaultOf(spec, out));
  }
  for (const key of later) out[key] = checked(label(key), specs[key]!, defaultOf(specs[key]!, out));
  return out;
}

/** A default is checked too: a declaration with a default outside its own range is a mistake worth hearing about. */
function checked(label: string, spec: OptionSpec, v: OptionValue | undefined): OptionValue | undefined {
  return v === undefined ? undefined : checkOption(`${label} (default)`, spec, v);
}

/** "(default 5)", "(default 1 sinusoid, 5 otherwise)", or '' for function defaults (their help says them). */
export function defaultHelp(spec: OptionSpec): string {
  checkArgs('defaultHelp', [spec], { spec: specArg });
  const d = spec.default;
  if (d === undefined || typeof d === 'function') return '';
  if (d !== null && typeof d === 'object') {
    const parts = Object.entries(d).filter(([, v]) => v !== undefined).map(([task, v]) => `${String(v)} ${task === 'default' ? 'otherwise' : task}`);
    return parts.length > 0 ? `default ${parts.join(', ')}` : '';
  }
  if (spec.kind === 'bool') return '';
  return `default ${String(d)}`;
}

/** camelCase key -> --kebab-case flag ('metaBatch' -> '--meta-batch'). */
export function flagOf(key: string): string {
  checkArgs('flagOf', [key], { key: str });
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}
