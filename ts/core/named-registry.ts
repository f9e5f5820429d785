// Named entries registered once and looked up by name: the learner registry (ts/meta) and
// the task-source registry (ts/data) are both this — lower-case names, each registered once,
// kept in registration order, and a lookup whose error lists the valid names.

import { ValueError } from './errors.js';

export class NamedRegistry<E extends { name: string }> {
  private readonly entries = new Map<string, E>();

  /**
   * `register` names the registering function in errors ('registerLearner'), `noun` what an
   * entry is ('learner', 'task source') and `kind` the word of a failed lookup ('unknown learner').
   */
  constructor(private readonly register: string, private readonly noun: string, private readonly kind: string) {}

  /** Add an entry: its name must be new and lower-case; `check` (the registry's own rules) runs before it is added. */
  add(entry: E, check?: (entry: E) => void): void {
    if (!entry || typeof entry.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(entry.name)) {
      throw new ValueError(`${this.register}: a ${this.noun} needs a lower-case name (letters, digits, '-'), got ${JSON.stringify(entry?.name)}`);
    }
    if (this.entries.has(entry.name)) throw new ValueError(`${this.register}: a ${this.noun} named '${entry.name}' is already registered`);
    check?.(entry);
    this.entries.set(entry.name, entry);
  }

  /** The entry named `name`, or a ValueError from `who` naming the valid ones. */
  get(name: string, who: string): E {
    const e = typeof name === 'string' ? this.entries.get(name) : undefined;
    if (!e) throw new ValueError(`${who}: unknown ${this.kind} '${String(name)}'; valid: ${[...this.entries.keys()].join(', ')}`);
    return e;
  }

  /** Every entry, in registration order. */
  all(): readonly E[] {
    return [...this.entries.values()];
  }

  delete(name: string): void {
    this.entries.delete(name);
  }
}
