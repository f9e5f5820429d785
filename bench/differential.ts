// bench:differential — the long differential run: N seeded random programs (default 500) on
// every backend that starts here, against PyTorch in float64 (/usr/bin/python3 with torch;
// METAGRAD_PYTHON overrides): the value of a random projection of each program's output, the
// gradients with respect to its inputs and a Hessian-vector product. js and native compute in
// float64, WebGPU in float32 on float32-exact inputs; a float32 result outside the tolerance
// passes only when js in float32 misses it too (an ill-conditioned program) and it stays
// within 10x js's float32 error. Writes bench/results/differential.json
// and .md. Env: DIFF_PROGRAMS (count), DIFF_SEED (first seed), BENCH_BACKENDS (comma list).

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import { compareDerivs, describeProgram, randomProgram, runMetagrad, runTorch, torchVersion, type Mismatch } from '../test/helpers/differential.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const count = Number(process.env['DIFF_PROGRAMS'] ?? 500);
const first = Number(process.env['DIFF_SEED'] ?? 1);
const TOL = { f64: [1e-8, 1e-9], f32: [2e-4, 2e-4] } as const;

const programs = Array.from({ length: count }, (_, i) => randomProgram(first + i));
const t0 = Date.now();
const ref = runTorch(programs);
if (!ref) throw new Error('bench:differential needs PyTorch: /usr/bin/python3 -c "import torch" fails (apt-get install python3-torch)');
const torchMs = Date.now() - t0;

const ops = new Map<string, number>();
for (const p of programs) for (const n of p.nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);

interface BackendResult {
  backend: string; dtype: string; rtol: number; atol: number; programs: number; failures: number; ms: number;
  worst: { value: Mismatch & { program: string }; grad: Mismatch & { program: string }; hvp: Mismatch & { program: string } };
  failed: string[];
  /** float32 programs beyond the tolerance for js in float32 too, judged against 10x that error */
  illConditioned: string[];
}
const results: BackendResult[] = [];
for (const backend of (process.env['BENCH_BACKENDS'] ?? 'js,native,webgpu').split(',')) {
  try {
    await mg.initBackend(backend);
  } catch (e) {
    console.log(`# ${backend}: unavailable (${(e as Error).message.split('\n')[0]})`);
    continue;
  }
  const f64 = mg.getBackend(backend).supportsDType('float64');
  const [rtol, atol] = f64 ? TOL.f64 : TOL.f32;
  const none = { what: 'none', ratio: 0, detail: '', program: '' };
  const r: BackendResult = { backend, dtype: f64 ? 'float64' : 'float32', rtol, atol, programs: count, failures: 0, ms: 0, worst: { value: none, grad: none, hvp: none }, failed: [], illConditioned: [] };
  const t1 = Date.now();
  for (let i = 0; i < programs.length; i++) {
    const p = programs[i]!;
    let c, bound = 1;
    try {
      c = compareDerivs(await runMetagrad(p, backend, f64 ? 'float64' : 'float32'), ref[i]!, rtol, atol);
      if (!f64 && c.worst.ratio > 1) {
        // an ill-conditioned program in float32: allowed 10x the reference backend's own float32 error
        const js32 = compareDerivs(await runMetagrad(p, 'js', 'float32'), ref[i]!, rtol, atol).worst.ratio;
        bound = Math.max(1, 10 * js32);
        if (js32 > 1) r.illConditioned.push(`${describeProgram(p)}: js float32 at ${js32.toExponential(2)}×, ${backend} at ${c.worst.ratio.toExponential(2)}× tolerance`);
      }
    } catch (e) {
      r.failures++;
      r.failed.push(`${describeProgram(p)}: threw ${(e as Error).message}`);
      continue;
    }
    for (const k of ['value', 'grad', 'hvp'] as const) if (c[k].ratio > r.worst[k].ratio) r.worst[k] = { ...c[k], program: describeProgram(p) };
    if (c.worst.ratio > bound) {
      r.failures++;
      r.failed.push(`${describeProgram(p)}: ${c.worst.what} ${c.worst.detail} (${c.worst.ratio.toExponential(2)}× tolerance)`);
    }
  }
  r.ms = Date.now() - t1;
  results.push(r);
  console.log(`${backend} (${r.dtype}): ${count - r.failures}/${count} programs within tolerance; worst value ${r.worst.value.ratio.toExponential(2)}×, gradient ${r.worst.grad.ratio.toExponential(2)}×, HVP ${r.worst.hvp.ratio.toExponential(2)}× of rtol ${rtol}/atol ${atol}; ${(r.ms / 1000).toFixed(1)} s`);
  for (const f of r.failed.slice(0, 10)) console.log(`  FAIL ${f}`);
}
mg.shutdownBackends();

const out = {
  date: new Date().toISOString(), command: 'npm run bench:differential', cpu: cpus()[0]?.model, threads: cpus().length,
  reference: `PyTorch ${torchVersion()} float64 (its own autograd, create_graph for the HVP)`, torchSeconds: torchMs / 1000,
  programs: count, firstSeed: first, ops: programs.reduce((n, p) => n + p.nodes.length, 0), opCounts: Object.fromEntries([...ops].sort((a, b) => b[1] - a[1])),
  tolerance: '|got - ref| <= atol·max(1, max|ref|) + rtol·|ref| per quantity', results,
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/differential.json'), `${JSON.stringify(out, null, 2)}\n`);
const md = [
  `# Differential test against ${out.reference}`,
  '',
  `${count} random programs (seeds ${first}..${first + count - 1}, ${out.ops} ops; \`npm run bench:differential\`, ${out.date.slice(0, 10)}). Each: the value of sum(out·r), the gradient with respect to every input, and a Hessian-vector product. Error as a multiple of the tolerance ${out.tolerance}.`,
  '',
  '| backend | dtype | rtol / atol | within tolerance | worst value | worst gradient | worst HVP | seconds |',
  '|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.backend} | ${r.dtype} | ${r.rtol} / ${r.atol} | ${r.programs - r.failures}/${r.programs} | ${r.worst.value.ratio.toExponential(2)} | ${r.worst.grad.ratio.toExponential(2)} | ${r.worst.hvp.ratio.toExponential(2)} | ${(r.ms / 1000).toFixed(1)} |`),
  '',
  `Ops covered: ${[...ops].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  ...results.flatMap((r) => (r.failed.length ? ['', `Failures on ${r.backend}:`, ...r.failed.map((f) => `- ${f}`)] : [])),
  ...results.flatMap((r) => (r.illConditioned.length ? ['', `Programs ill-conditioned in float32 on ${r.backend} (the js backend in float32 misses the tolerance too; these pass when within 10× its error):`, ...r.illConditioned.map((f) => `- ${f}`)] : [])),
  '',
].join('\n');
writeFileSync(join(root, 'bench/results/differential.md'), md);
