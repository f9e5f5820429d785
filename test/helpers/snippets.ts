// The fenced ```ts blocks of README.md and docs/*.md: every one is a complete program that
// must compile under strict and run (test/package/pack.test.ts does both against the packed
// package). Blocks that sketch an interface use a plain ``` fence instead.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
  /** 'docs/api.md:96' */
  where: string;
  /** a file name for it: 'docs-api-md-96' */
  name: string;
  code: string;
}

export function docSnippets(root: string): Snippet[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  const out: Snippet[] = [];
  for (const f of files) {
    const lines = readFileSync(join(root, f), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() !== '```ts') continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && lines[end]!.trim() !== '```') end++;
      const code = lines.slice(start, end).join('\n');
      out.push({ where: `${f}:${start}`, name: `${f.replace(/[^A-Za-z0-9]+/g, '-')}-${start}`, code: /^\s*(import|export)\b/m.test(code) ? code : `${code}\nexport {};\n` });
      i = end;
    }
  }
  return out;
}
