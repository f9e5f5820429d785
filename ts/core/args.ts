// Argument checks for the public entry points (issue 14 item 11): every exported function
// checks what it is given before using it, and a wrong argument is a ValueError that names
// the function the user called and the argument — never a TypeError from deep inside.
//
// A check is a function (value, who, name) => void that throws; `validated(who, f, checks)`
// runs one check per positional argument (in the order of the `checks` object's keys) and
// then calls f. Checks are shallow on purpose: the type of each argument and the members the
// function reaches for at once (a model's apply, a task's support and query); shapes,
// dtypes and ranges stay with the function itself, which knows what it needs.

import { ValueError } from './errors.js';
import { describe } from './shape.js';

export type Check = (value: unknown, who: string, name: string) => void;

function fail(who: string, name: string, what: string, v: unknown): never {
  throw new ValueError(`${who}: ${name} must be ${what}, got ${describe(v)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A check that accepts anything (an argument passed through untouched). */
export const anything: Check = () => {};

export const fn: Check = (v, who, name) => {
  if (typeof v !== 'function') fail(who, name, 'a function', v);
};

export const str: Check = (v, who, name) => {
  if (typeof v !== 'string') fail(who, name, 'a string', v);
};

export const bool: Check = (v, who, name) => {
  if (typeof v !== 'boolean') fail(who, name, 'true or false', v);
};

export const num: Check = (v, who, name) => {
  if (typeof v !== 'number' || Number.isNaN(v)) fail(who, name, 'a number', v);
};

/** An integer >= min. */
export function int(min = -Infinity): Check {
  return (v, who, name) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(who, name, min === -Infinity ? 'an integer' : `an integer >= ${min}`, v);
  };
}

/** One of the given strings. */
export function oneOf(values: readonly string[]): Check {
  return (v, who, name) => {
    if (typeof v !== 'string' || !values.includes(v)) fail(who, name, `one of ${values.map((s) => `'${s}'`).join(', ')}`, v);
  };
}

/** undefined, or what `check` accepts. */
export function optional(check: Check): Check {
  return (v, who, name) => {
    if (v !== undefined) check(v, who, name);
  };
}

/** An instance of a class (`label` says it in the message: 'a Tensor', 'an Rng'). */
export function instance(cls: abstract new (...a: never[]) => unknown, label: string): Check {
  return (v, who, name) => {
    if (!(v instanceof cls)) fail(who, name, label, v);
  };
}

/**
 * A plain object (not null, not an array); `members` are checked on it (`name.key`), and
 * `label` describes the whole in the message ('a model with apply()').
 */
export function object(members: Readonly<Record<string, Check>> = {}, label = 'an object'): Check {
  return (v, who, name) => {
    if (!isObject(v)) fail(who, name, label, v);
    for (const [key, check] of Object.entries(members)) check(v[key], who, `${name}.${key}`);
  };
}

/** An options object: undefined (all defaults) or an object whose given members are checked. */
export function options(members: Readonly<Record<string, Check>> = {}): Check {
  const inner = object(Object.fromEntries(Object.entries(members).map(([k, c]) => [k, optional(c)])), 'an options object');
  return (v, who, name) => {
    if (v !== undefined) inner(v, who, name);
  };
}

/** An array (each element checked, as `name[i]`, when `each` is given). */
export function array(each?: Check, label = 'an array'): Check {
  return (v, who, name) => {
    if (!Array.isArray(v)) fail(who, name, label, v);
    if (each) v.forEach((x, i) => each(x, who, `${name}[${i}]`));
  };
}

/** Anything iterable but a string (an array, a Set, a generator). */
export function iterable(label = 'an iterable'): Check {
  return (v, who, name) => {
    if (v === null || typeof v !== 'object' || typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') fail(who, name, label, v);
  };
}

/** An array of numbers or a typed array. */
export const numbers: Check = (v, who, name) => {
  const ok = ArrayBuffer.isView(v) && !(v instanceof DataView) ? true : Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (!ok) fail(who, name, 'an array of numbers or a typed array', v);
};

/** Bytes: a Uint8Array (a Node Buffer is one). */
export const bytes: Check = (v, who, name) => {
  if (!(v instanceof Uint8Array)) fail(who, name, 'a Uint8Array of bytes', v);
};

/** Any of the checks (the first error's class, with `label` as the expectation). */
export function either(label: string, ...checks: Check[]): Check {
  return (v, who, name) => {
    for (const c of checks) {
      try {
        c(v, who, name);
        return;
      } catch {
        // try the next
      }
    }
    fail(who, name, label, v);
  };
}

/** Runs the checks on `args` (one per key of `checks`, in order) for `who`. */
export function checkArgs(who: string, args: readonly unknown[], checks: Readonly<Record<string, Check>>): void {
  let i = 0;
  for (const [name, check] of Object.entries(checks)) check(args[i++], who, name);
}

/**
 * `f` with its arguments checked first (see checkArgs). An async `f` reports a bad
 * argument as a rejected promise, as it reports its other failures.
 */
export function validated<F extends (...args: any[]) => any>(who: string, f: F, checks: Readonly<Record<string, Check>>): F {
  const isAsync = f.constructor.name === 'AsyncFunction';
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (isAsync) {
      try {
        checkArgs(who, args, checks);
      } catch (e) {
        return Promise.reject(e);
      }
    } else checkArgs(who, args, checks);
    return f.apply(this, args);
  };
  Object.defineProperty(wrapped, 'name', { value: f.name });
  return wrapped as unknown as F;
}
