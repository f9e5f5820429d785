// The layer rule of docs/architecture.md: imports in ts/ only point down the layers and
// form no cycles. Checked on the real tree, and shown to fail on trees that break it.

import test from 'tape';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SourceFile, checkLayers, parseImports, readTree } from './helpers/layers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('architecture: every import in ts/ points down a layer, and there are no cycles', (t) => {
  const files = readTree(root);
  t.ok(files.length > 50 && files.some((f) => f.path === 'ts/core/errors.ts'), `read ${files.length} files under ts/`);
  const violations = checkLayers(files);
  t.deepEqual(violations.map((v) => v.message), [], 'no upward, peer, cyclic or unplaced imports');
  t.end();
});

test('architecture: the parser sees static, re-export, side-effect, type-only and dynamic imports', (t) => {
  const refs = parseImports([
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    "export * from './c.js';",
    "export { d, type E } from \"./d.js\";",
    "import './e.js';",
    'import {',
    '  f,',
    "} from './f.js';",
    "const g = await import('./g.js');",
    "// a comment that mentions import x from 'y' is not an import",
  ].join('\n'));
  t.deepEqual(refs.map((r) => r.spec), ['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
  t.end();
});

// A small made-up tree that keeps the rule; each case below breaks it in one way.
const good: SourceFile[] = [
  { path: 'ts/core/errors.ts', text: 'export class E {}' },
  { path: 'ts/backend/kernels.ts', text: "import { E } from '../core/errors.js';" },
  { path: 'ts/backend/webgpu/gemm.ts', text: "import '../kernels.js';" },
  { path: 'ts/backend/webgpu/conv.ts', text: "import './gemm.js';" },
  { path: 'ts/ops/elementwise.ts', text: "import './reduce.js';" },
  { path: 'ts/ops/reduce.ts', text: "import './elementwise.js';\nimport './shape-ops.js';" },
  { path: 'ts/ops/shape-ops.ts', text: "import './reduce.js';" },
  { path: 'ts/nn/linear.ts', text: "import '../ops/elementwise.js';" },
  { path: 'ts/optim/sgd.ts', text: "import '../ops/elementwise.js';" },
  { path: 'ts/meta/maml.ts', text: "import '../nn/linear.js';" },
];
const withFile = (path: string, text: string): SourceFile[] => [...good.filter((f) => f.path !== path), { path, text }];

test('architecture: the checker fails on a deliberately wrong import', (t) => {
  t.deepEqual(checkLayers(good), [], 'the made-up tree passes (including the allowed ops recursion)');

  const upward = checkLayers(withFile('ts/ops/conv.ts', "import { maml } from '../meta/maml.js';"));
  t.deepEqual(upward.map((v) => v.kind), ['upward'], 'ops importing meta is an upward import');
  t.ok(upward[0]!.message.includes('ts/ops/conv.ts:1') && upward[0]!.message.includes("'meta'"), upward[0]!.message);

  const typeOnly = checkLayers(withFile('ts/core/dtype.ts', "import type { Backend } from '../backend/kernels.js';"));
  t.deepEqual(typeOnly.map((v) => v.kind), ['upward'], 'a type-only import up a layer counts too');

  const peer = checkLayers(withFile('ts/optim/sgd.ts', "import '../nn/linear.js';"));
  t.deepEqual(peer.map((v) => v.kind), ['peer'], 'optim importing nn (same layer) is refused');

  const cycle = checkLayers(withFile('ts/backend/webgpu/gemm.ts', "import './conv.js';"));
  t.deepEqual(cycle.map((v) => v.kind), ['cycle'], 'gemm.ts <-> conv.ts inside one folder is a cycle');
  t.ok(cycle[0]!.message.includes('ts/backend/webgpu/conv.ts <-> ts/backend/webgpu/gemm.ts'), cycle[0]!.message);

  const grown = checkLayers(withFile('ts/ops/shape-ops.ts', "import './reduce.js';\nimport './matmul.js';").concat({ path: 'ts/ops/matmul.ts', text: "import './shape-ops.js';" }));
  t.deepEqual(grown.map((v) => v.kind), ['cycle'], 'the allowed ops recursion may not grow by another file');

  const unplaced = checkLayers(withFile('ts/extras/thing.ts', "import '../core/errors.js';"));
  t.deepEqual(unplaced.map((v) => v.kind), ['unplaced'], 'a new folder must be given a layer');

  const outside = checkLayers(withFile('ts/meta/maml.ts', "import '../../package.json';"));
  t.deepEqual(outside.map((v) => v.kind), ['outside'], 'an import that leaves ts/ (or names a missing file) is reported');
  t.end();
});
