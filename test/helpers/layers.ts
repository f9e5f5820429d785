// The import rule of docs/architecture.md as a checker: every import in ts/ points to the
// same folder or to a folder of a lower layer, and no files import each other in a circle
// (except the one recursion the design asks for, below). Used by test/architecture.test.ts
// on the real tree and on made-up trees that break the rule.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

/**
 * The layers, lowest first. A folder may import its own files and any folder of a lower
 * layer; folders in the same layer do not import each other. Top-level files of ts/ count as
 * a folder of their own name (api.ts re-exports the library; index.ts and browser.ts are its
 * Node and browser entries).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['backend'],
  ['tensor'],
  ['ops'],
  ['autodiff'],
  ['nn', 'optim', 'io'],
  ['data'],
  ['meta'],
  ['cli'],
  ['api.ts'],
  ['index.ts', 'browser.ts'],
  ['examples'],
];

/**
 * Import cycles that are the design, not a defect: each op's vjp is written in other
 * differentiable ops (DESIGN.md rule 2), so sum's vjp is a broadcast, broadcastTo's vjp
 * is a sum, and the binary ops' vjps undo broadcasting with sumTo. Any other cycle, or
 * this one grown by another file, fails.
 */
export const ALLOWED_CYCLES: readonly (readonly string[])[] = [
  ['ts/ops/elementwise.ts', 'ts/ops/reduce.ts', 'ts/ops/shape-ops.ts'],
];

export interface SourceFile {
  /** repository-relative, with forward slashes: 'ts/ops/conv.ts' */
  path: string;
  text: string;
}

export interface ImportRef {
  spec: string;
  line: number;
}

/** Every module specifier a file imports or re-exports (static, side-effect and dynamic). */
export function parseImports(text: string): ImportRef[] {
  const out: ImportRef[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const patterns = [
    /^[ \t]*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^[ \t]*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push({ spec: m[1]!, line: lineOf(m.index!) });
  return out.sort((a, b) => a.line - b.line);
}

/** The folder of a file under ts/ ('ops' for ts/ops/conv.ts, 'backend' for ts/backend/js/x.ts, 'index.ts' for ts/index.ts). */
export function folderOf(path: string): string {
  return path.split('/')[1]!;
}

export interface Violation {
  kind: 'upward' | 'peer' | 'cycle' | 'unplaced' | 'outside';
  message: string;
}

/** Resolve a relative specifier ('../core/errors.js') against the importing file to a ts/ path. */
function resolve(from: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
}

export function checkLayers(files: readonly SourceFile[], layers = LAYERS, allowedCycles = ALLOWED_CYCLES): Violation[] {
  const rank = new Map<string, number>();
  layers.forEach((group, i) => group.forEach((f) => rank.set(f, i)));
  const violations: Violation[] = [];
  const known = new Set(files.map((f) => f.path));
  const graph = new Map<string, string[]>();

  for (const file of files) {
    const from = folderOf(file.path);
    const fromRank = rank.get(from);
    if (fromRank === undefined) {
      violations.push({ kind: 'unplaced', message: `${file.path}: folder '${from}' is in no layer; add it to LAYERS (test/helpers/layers.ts) and docs/architecture.md` });
    }
    const edges: string[] = [];
    for (const { spec, line } of parseImports(file.text)) {
      if (!spec.startsWith('.')) continue; // packages and node: builtins
      const target = resolve(file.path, spec);
      if (!target.startsWith('ts/') || !known.has(target)) {
        violations.push({ kind: 'outside', message: `${file.path}:${line} imports '${spec}', which is not a file under ts/` });
        continue;
      }
      edges.push(target);
      const to = folderOf(target);
      const toRank = rank.get(to);
      if (to === from || fromRank === undefined || toRank === undefined) continue;
      if (toRank > fromRank) {
        violations.push({ kind: 'upward', message: `${file.path}:${line} imports ${target}: '${from}' (layer ${fromRank}) must not import '${to}' (layer ${toRank}, above it)` });
      } else if (toRank === fromRank) {
        violations.push({ kind: 'peer', message: `${file.path}:${line} imports ${target}: '${from}' and '${to}' are in the same layer and must not import each other` });
      }
    }
    graph.set(file.path, edges);
  }

  const allowed = new Set(allowedCycles.map((c) => [...c].sort().join(' ')));
  for (const scc of cycles(graph)) {
    const key = [...scc].sort().join(' ');
    if (!allowed.has(key)) violations.push({ kind: 'cycle', message: `import cycle: ${[...scc].sort().join(' <-> ')}` });
  }
  return violations;
}

/** The strongly connected components with more than one file (or a file importing itself); Tarjan's algorithm. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Every .ts file under root/ts, as repository-relative paths with their text. */
export function readTree(root: string): SourceFile[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
  return walk(join(root, 'ts'))
    .sort()
    .map((p) => ({ path: relative(root, p).split(/[\\/]/).join('/'), text: readFileSync(p, 'utf8') }));
}
