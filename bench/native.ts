// Benchmark of the native backend against its peers, in one run:
//   native (all threads and 1 thread) · the js reference · tfjs cpu · tfjs wasm ·
//   jax-js wasm · OpenBLAS sgemm (1 thread and as many threads as native; matmul only,
//   when libopenblas and cblas.h are installed; built here by the bench with cc).
// Sections: matmul 32..1024, conv2d at the Conv-4 shapes (Omniglot 28×28, mini-ImageNet
// 84×84), elementwise, reductions. Prints a GFLOP/s table with ratios and writes JSON to
// bench/results/native-<cpu>.json. Each measurement is the best of repeated runs after a
// warm-up (the machine may be shared, and the best run is the least disturbed one).
//
//   npm run bench:native [-- --quick] [-- --only=matmul,conv]
//
// Elementwise and reduction "GFLOP/s" count one operation per element (memory-bound work).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import type { NativeBackend } from '../ts/backend/native/native-backend.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..'); // build/bench -> repository root
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const ROUNDS = quick ? 2 : 3; // interleaved rounds per case (best kept)
const MIN_TIME = quick ? 0.05 : 0.15; // seconds of repeats per peer per round
const SLOW_LIMIT = 1.5; // a peer whose first call takes longer is measured once

type Fn = () => unknown | Promise<unknown>;
type Row = { section: string; name: string; flops: number; results: Record<string, number | null>; notes: Record<string, string> };

async function measure(fn: Fn): Promise<number> {
  let t0 = performance.now();
  await fn(); // warm-up (compiles wasm kernels, fills pools)
  const first = (performance.now() - t0) / 1000;
  if (first > SLOW_LIMIT) return first;
  let best = Infinity, spent = 0, reps = 0;
  while ((spent < MIN_TIME || reps < 3) && reps < 20000) {
    t0 = performance.now();
    const r = fn();
    if (r instanceof Promise) await r; // only the async peers pay for an await
    const dt = (performance.now() - t0) / 1000;
    best = Math.min(best, dt);
    spent += dt;
    reps++;
  }
  return best;
}

// --- peers -----------------------------------------------------------------------------

interface Peer {
  name: string;
  /** set up the case's inputs on this peer and return the timed function, or a reason to skip */
  prepare(c: Case): Promise<{ run: Fn; dispose: () => void } | string>;
  /** called before each timed burst (e.g. to set the thread count or switch tfjs backends) */
  before?(): void | Promise<void>;
}

interface Case {
  section: 'matmul' | 'conv2d' | 'elementwise' | 'reduce';
  name: string;
  flops: number;
  /** metagrad inputs on a backend, plus the function of them */
  mg?: (backend: string) => { run: () => mg.Tensor | mg.Tensor[]; inputs: mg.Tensor[] };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  tf?: (tf: any) => { run: () => any; inputs: any[] };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  jax?: (jax: any) => { run: () => any; inputs: any[] };
  /** the js reference is skipped above this many flops (it would take minutes) */
  jsLimit?: number;
  matmulN?: number;
}

function rand(n: number, seed: number): Float32Array {
  const r = new mg.Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.nextFloat() * 2 - 1;
  return a;
}

function mgPeer(name: string, backend: string, threads?: number): Peer {
  return {
    name,
    before() {
      if (backend === 'native') (mg.getBackend('native') as NativeBackend).setThreads(threads ?? defaultThreads);
    },
    async prepare(c) {
      if (!c.mg) return 'no such case';
      if (backend === 'js' && c.flops > (c.jsLimit ?? 3e9)) return 'skipped (too slow)';
      const { run, inputs } = c.mg(backend);
      return {
        run: () => {
          const out = run();
          for (const t of Array.isArray(out) ? out : [out]) t.dispose();
        },
        dispose: () => inputs.forEach((t) => t.dispose()),
      };
    },
  };
}

async function tfPeer(which: 'cpu' | 'wasm'): Promise<Peer | string> {
  try {
    const tf = await import('@tensorflow/tfjs');
    if (which === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    // silence the "install tfjs-node" banner
    const log = console.log;
    console.log = () => undefined;
    try {
      if (!(await tf.setBackend(which))) return `tfjs ${which} backend did not start`;
      await tf.ready();
    } finally {
      console.log = log;
    }
    return {
      name: `tfjs-${which}`,
      async before() {
        await tf.setBackend(which);
      },
      async prepare(c) {
        if (!c.tf) return 'no such case';
        await tf.setBackend(which);
        const { run, inputs } = c.tf(tf);
        return {
          run: () => {
            // tfjs cpu and wasm compute synchronously when the op is called
            const y = run();
            y.dispose();
          },
          dispose: () => inputs.forEach((t) => t.dispose()),
        };
      },
    };
  } catch (e) {
    return `tfjs ${which}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function jaxPeer(): Promise<Peer | string> {
  try {
    const jax = await import('@jax-js/jax');
    const devices = await jax.init('wasm');
    if (!devices.includes('wasm')) return 'jax-js: no wasm device';
    jax.defaultDevice('wasm');
    return {
      name: 'jax-wasm',
      async prepare(c) {
        if (!c.jax) return 'no such case';
        const { run, inputs } = c.jax(jax);
        return {
          run: async () => {
            // jax-js is lazy: wait for the result, then release it
            const y = run();
            await jax.blockUntilReady(y);
            y.dispose();
          },
          dispose: () => inputs.forEach((t) => t.dispose()),
        };
      },
    };
  } catch (e) {
    return `jax-js: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** OpenBLAS sgemm, through bench/openblas-sgemm.c built here; null with a reason when absent. */
function openblas(sizes: number[], threads: number): { gflops: Map<number, number> } | string {
  const exe = join(root, 'build', 'bench', 'openblas-sgemm');
  if (!existsSync(exe)) {
    const src = join(root, 'bench', 'openblas-sgemm.c');
    const inc = ['/usr/include', '/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu', '/usr/include/openblas'];
    if (!inc.some((d) => existsSync(join(d, 'cblas.h')))) return 'cblas.h not found (install libopenblas-dev)';
    mkdirSync(dirname(exe), { recursive: true });
    const cc = spawnSync('cc', ['-O2', src, '-o', exe, '-lopenblas'], { encoding: 'utf8' });
    if (cc.status !== 0) return `could not build against libopenblas: ${(cc.stderr || cc.error?.message || '').trim().split('\n')[0]}`;
  }
  try {
    const out = execFileSync(exe, sizes.map(String), { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads) } });
    const gflops = new Map<number, number>();
    for (const line of out.trim().split('\n')) {
      const [n, g] = line.split(' ').map(Number);
      gflops.set(n!, g!);
    }
    return { gflops };
  } catch (e) {
    return `openblas run failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

// --- cases -------------------------------------------------------------------------------

function matmulCase(n: number): Case {
  const a = rand(n * n, 1), b = rand(n * n, 2);
  return {
    section: 'matmul', name: `${n}×${n}×${n}`, flops: 2 * n ** 3, jsLimit: 3e8, matmulN: n,
    mg: (backend) => {
      const x = mg.tensor(a, [n, n], { backend }), y = mg.tensor(b, [n, n], { backend });
      return { inputs: [x, y], run: () => mg.matmul(x, y) };
    },
    tf: (tf) => {
      const x = tf.tensor2d(a, [n, n]), y = tf.tensor2d(b, [n, n]);
      return { inputs: [x, y], run: () => tf.matMul(x, y) };
    },
    jax: (jax) => {
      const x = jax.numpy.array(a).reshape([n, n]), y = jax.numpy.array(b).reshape([n, n]);
      return { inputs: [x, y], run: () => jax.numpy.matmul(x.ref, y.ref) };
    },
  };
}

function convCase(name: string, n: number, c: number, h: number, co: number, k = 3): Case {
  const xs = rand(n * c * h * h, 3), ws = rand(co * c * k * k, 4);
  const flops = 2 * n * co * h * h * c * k * k; // stride 1, 'same' padding
  // tfjs wants NHWC and HWIO: the same numbers, transposed once outside the timing
  const nhwc = new Float32Array(xs.length), hwio = new Float32Array(ws.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * h; p++) nhwc[(i * h * h + p) * c + ch] = xs[(i * c + ch) * h * h + p]!;
  for (let o = 0; o < co; o++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < k * k; p++) hwio[(p * c + ch) * co + o] = ws[(o * c + ch) * k * k + p]!;
  return {
    section: 'conv2d', name, flops, jsLimit: 1.5e9,
    mg: (backend) => {
      const x = mg.tensor(xs, [n, c, h, h], { backend }), w = mg.tensor(ws, [co, c, k, k], { backend });
      return { inputs: [x, w], run: () => mg.conv2d(x, w, { padding: (k - 1) / 2 }) };
    },
    tf: (tf) => {
      const x = tf.tensor4d(nhwc, [n, h, h, c]), w = tf.tensor4d(hwio, [k, k, c, co]);
      return { inputs: [x, w], run: () => tf.conv2d(x, w, 1, 'same') };
    },
    jax: (jax) => {
      const x = jax.numpy.array(xs).reshape([n, c, h, h]), w = jax.numpy.array(ws).reshape([co, c, k, k]);
      return { inputs: [x, w], run: () => jax.lax.conv(x.ref, w.ref, [1, 1], 'SAME') };
    },
  };
}

/** The two transposes of a conv layer (native and js only: the peers have no direct kernel). */
function convBackwardCase(name: string, n: number, c: number, h: number, co: number, which: 'input' | 'filter', k = 3): Case {
  const xs = rand(n * c * h * h, 5), ws = rand(co * c * k * k, 6), dys = rand(n * co * h * h, 7);
  return {
    section: 'conv2d', name: `${name} d${which === 'input' ? 'x' : 'w'}`, flops: 2 * n * co * h * h * c * k * k, jsLimit: 1.5e9,
    mg: (backend) => {
      const x = mg.tensor(xs, [n, c, h, h], { backend }), w = mg.tensor(ws, [co, c, k, k], { backend }), dy = mg.tensor(dys, [n, co, h, h], { backend });
      const p = (k - 1) / 2;
      return which === 'input'
        ? { inputs: [dy, w], run: () => mg.conv2dBackwardInput(dy, w, [h, h], { padding: p }) }
        : { inputs: [x, dy], run: () => mg.conv2dBackwardFilter(x, dy, [k, k], { padding: p }) };
    },
  };
}

function elementwiseCases(): Case[] {
  const n = 1 << 20;
  const a = rand(n, 8), b = rand(n, 9), row = rand(1024, 10);
  const un = (name: string, f: (x: mg.Tensor) => mg.Tensor, tff: string, jf: string): Case => ({
    section: 'elementwise', name: `${name} [2^20]`, flops: n,
    mg: (backend) => { const x = mg.tensor(a, [n], { backend }); return { inputs: [x], run: () => f(x) }; },
    tf: (tf) => { const x = tf.tensor1d(a); return { inputs: [x], run: () => tf[tff](x) }; },
    jax: (jax) => { const x = jax.numpy.array(a); return { inputs: [x], run: () => jax.numpy[jf](x.ref) }; },
  });
  return [
    {
      section: 'elementwise', name: 'add [2^20]', flops: n,
      mg: (backend) => { const x = mg.tensor(a, [n], { backend }), y = mg.tensor(b, [n], { backend }); return { inputs: [x, y], run: () => mg.add(x, y) }; },
      tf: (tf) => { const x = tf.tensor1d(a), y = tf.tensor1d(b); return { inputs: [x, y], run: () => tf.add(x, y) }; },
      jax: (jax) => { const x = jax.numpy.array(a), y = jax.numpy.array(b); return { inputs: [x, y], run: () => jax.numpy.add(x.ref, y.ref) }; },
    },
    {
      section: 'elementwise', name: 'mul broadcast [1024,1024]·[1024]', flops: n,
      mg: (backend) => { const x = mg.tensor(a, [1024, 1024], { backend }), y = mg.tensor(row, [1024], { backend }); return { inputs: [x, y], run: () => mg.mul(x, y) }; },
      tf: (tf) => { const x = tf.tensor2d(a, [1024, 1024]), y = tf.tensor1d(row); return { inputs: [x, y], run: () => tf.mul(x, y) }; },
      jax: (jax) => { const x = jax.numpy.array(a).reshape([1024, 1024]), y = jax.numpy.array(row); return { inputs: [x, y], run: () => jax.numpy.multiply(x.ref, y.ref) }; },
    },
    un('exp', mg.exp, 'exp', 'exp'),
    un('tanh', mg.tanh, 'tanh', 'tanh'),
    un('relu', mg.relu, 'relu', 'abs'), // jax-js numpy has no relu; abs is the same kind of work
  ];
}

function reduceCases(): Case[] {
  const n = 1 << 20;
  const a = rand(n, 11);
  const red = (name: string, f: (x: mg.Tensor) => mg.Tensor, tff: (tf: any, x: any) => any, jf: (jax: any, x: any) => any, shape: number[]): Case => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
    section: 'reduce', name, flops: n,
    mg: (backend) => { const x = mg.tensor(a, shape, { backend }); return { inputs: [x], run: () => f(x) }; },
    tf: (tf) => { const x = tf.tensor(a, shape); return { inputs: [x], run: () => tff(tf, x) }; },
    jax: (jax) => { const x = jax.numpy.array(a).reshape(shape); return { inputs: [x], run: () => jf(jax, x.ref) }; },
  });
  return [
    red('sum all [2^20]', (x) => mg.sum(x), (tf, x) => tf.sum(x), (jax, x) => jax.numpy.sum(x), [n]),
    red('sum last axis [1024,1024]', (x) => mg.sum(x, -1), (tf, x) => tf.sum(x, -1), (jax, x) => jax.numpy.sum(x, 1), [1024, 1024]),
    red('sum axis 0 [1024,1024]', (x) => mg.sum(x, 0), (tf, x) => tf.sum(x, 0), (jax, x) => jax.numpy.sum(x, 0), [1024, 1024]),
    red('max last axis [1024,1024]', (x) => mg.max(x, -1), (tf, x) => tf.max(x, -1), (jax, x) => jax.numpy.max(x, 1), [1024, 1024]),
    red('softmax rows [1024,1024]', (x) => mg.softmax(x, -1), (tf, x) => tf.softmax(x), (jax, x) => jax.nn.softmax(x, -1), [1024, 1024]),
  ];
}

// --- run ---------------------------------------------------------------------------------

let defaultThreads = 1;

async function main(): Promise<void> {
  let native: NativeBackend | null = null;
  try {
    native = mg.getBackend('native') as NativeBackend;
  } catch (e) {
    console.log(`native backend unavailable: ${e instanceof Error ? e.message : String(e)}`);
  }
  const info = native?.info() ?? { isa: 'none', threads: 0 };
  defaultThreads = info.threads;
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown-cpu';
  const loadBefore = os.loadavg()[0]!;
  console.log(`CPU: ${cpu} (${os.cpus().length} logical cores, load average ${loadBefore.toFixed(2)}); native: ${info.isa}, ${info.threads} threads; node ${process.version}`);

  const peers: Peer[] = [];
  const unavailable: Record<string, string> = {};
  if (native) peers.push(mgPeer('native', 'native'), mgPeer('native-1t', 'native', 1));
  peers.push(mgPeer('js', 'js'));
  for (const p of [await tfPeer('cpu'), await tfPeer('wasm'), await jaxPeer()]) {
    if (typeof p === 'string') unavailable[p.split(':')[0]!] = p;
    else peers.push(p);
  }

  const sizes = quick ? [32, 128, 512] : [32, 64, 128, 256, 512, 1024];
  const batch = quick ? 16 : 160, batchMi = quick ? 8 : 80;
  const cases: Case[] = [
    ...sizes.map(matmulCase),
    convCase(`omniglot L1 x[${batch},1,28,28] w[64,1,3,3]`, batch, 1, 28, 64),
    convCase(`omniglot L2 x[${batch},64,14,14] w[64,64,3,3]`, batch, 64, 14, 64),
    convCase(`mini-imagenet L1 x[${batchMi},3,84,84] w[32,3,3,3]`, batchMi, 3, 84, 32),
    convCase(`mini-imagenet L2 x[${batchMi},32,42,42] w[32,32,3,3]`, batchMi, 32, 42, 32),
    convBackwardCase(`omniglot L2`, batch, 64, 14, 64, 'input'),
    convBackwardCase(`omniglot L2`, batch, 64, 14, 64, 'filter'),
    ...elementwiseCases(),
    ...reduceCases(),
  ].filter((c) => !only || only.includes(c.section));

  const rows: Row[] = [];
  for (const c of cases) {
    const row: Row = { section: c.section, name: c.name, flops: c.flops, results: {}, notes: {} };
    const ready: [Peer, { run: Fn; dispose: () => void }][] = [];
    for (const p of peers) {
      let prepared: { run: Fn; dispose: () => void } | string;
      try {
        prepared = await p.prepare(c);
      } catch (e) {
        prepared = e instanceof Error ? e.message : String(e);
      }
      row.results[p.name] = null;
      if (typeof prepared === 'string') row.notes[p.name] = prepared;
      else ready.push([p, prepared]);
    }
    // Interleaved rounds: on a shared machine a burst of load then hits every peer, not one.
    const best = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [p, prepared] of ready) {
        if (row.notes[p.name]) continue;
        if (round > 0 && (best.get(p.name) ?? 0) > SLOW_LIMIT) continue; // slow peers: one round
        try {
          await p.before?.();
          const s = await measure(prepared.run);
          best.set(p.name, Math.min(best.get(p.name) ?? Infinity, s));
        } catch (e) {
          row.notes[p.name] = e instanceof Error ? e.message : String(e);
        }
      }
    }
    for (const [p, prepared] of ready) {
      const s = best.get(p.name);
      if (s !== undefined && !row.notes[p.name]) row.results[p.name] = c.flops / s / 1e9;
      prepared.dispose();
    }
    rows.push(row);
    process.stdout.write(`  ${c.section} ${c.name}: ${Object.entries(row.results).map(([k, v]) => `${k} ${v === null ? '-' : v.toFixed(2)}`).join(', ')}\n`);
  }

  // OpenBLAS: one thread, and as many threads as native uses
  const mm = rows.filter((r) => r.section === 'matmul');
  if (mm.length) {
    for (const [label, th] of [['openblas-1t', 1], ['openblas', info.threads || os.cpus().length]] as const) {
      const ob = openblas(sizes, th);
      if (typeof ob === 'string') unavailable[label] = ob;
      else for (const r of mm) r.results[label] = ob.gflops.get(Number(r.name.split('×')[0])) ?? null;
    }
  }

  // table
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r.results)))];
  const ratio = (r: Row, a: string, bs: string[]): string => {
    const x = r.results[a];
    const ys = bs.map((b) => r.results[b]).filter((v): v is number => typeof v === 'number');
    if (typeof x !== 'number' || ys.length === 0) return '-';
    return (x / Math.max(...ys)).toFixed(2) + '×';
  };
  // like with like: the wasm peers run one thread in Node, so native-1t is their match
  const header = ['case', ...cols, 'native/wasm-best', 'native-1t/wasm-best', 'native/openblas', 'native-1t/openblas-1t'];
  const lines = [header];
  for (const r of rows) {
    lines.push([
      `${r.section} ${r.name}`,
      ...cols.map((c) => (typeof r.results[c] === 'number' ? r.results[c]!.toFixed(2) : '-')),
      ratio(r, 'native', ['tfjs-wasm', 'jax-wasm']),
      ratio(r, 'native-1t', ['tfjs-wasm', 'jax-wasm']),
      r.section === 'matmul' ? ratio(r, 'native', ['openblas']) : '',
      r.section === 'matmul' ? ratio(r, 'native-1t', ['openblas-1t']) : '',
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  console.log('\nGFLOP/s (elementwise/reduce: 1 op per element); best of repeats');
  for (const l of lines) console.log(l.map((s, i) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join('  '));
  for (const [k, v] of Object.entries(unavailable)) console.log(`unavailable: ${k}: ${v}`);
  console.log(`load average before ${loadBefore.toFixed(2)}, after ${os.loadavg()[0]!.toFixed(2)} (other processes on a shared machine lower every column)`);
  console.log(`threads: native ${info.threads} (native-1t: 1); openblas ${info.threads} (openblas-1t: 1); tfjs-wasm and jax-wasm run single-threaded in Node`);

  const slug = cpu.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'cpu';
  const outDir = join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `native-${slug}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpu, cores: os.cpus().length, loadAverage: { before: loadBefore, after: os.loadavg()[0] }, node: process.version, native: info, quick, unavailable, rows }, null, 2) + '\n');
  console.log(`wrote ${file}`);
  mg.shutdownBackends();
}

await main();
