// Quick interleaved GEMM timing on the current adapter: metagrad variants (METAGRAD_GEMM_BLOCK
// values, or 'default') against tfjs-webgpu, for square matmuls and the Conv-4 convolutions.
//   node build/bench/gemm-quick.js [variants=default,shared] [rounds=3] [sizes=256,512,1024] [noconv|conv|allconv]
/// <reference types="@webgpu/types" />
import * as mg from '../ts/index.js';
import { installDawn, loadTfjsWebgpu, tfjsFinish } from './dawn-peers.js';
await installDawn();
const backend = await mg.initBackend('webgpu');
const { tf } = await loadTfjsWebgpu();
const variants = (process.argv[2] ?? 'default,shared').split(',');
const rounds = Number(process.argv[3] ?? 3);
const sizes = (process.argv[4] ?? '256,512,1024').split(',').map(Number);
function rnd(n: number) { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898) ; return a; }
async function timeIt(f: () => any, fin: (o: any) => Promise<void>, disp: (o: any) => void, budget: number) {
  for (let i = 0; i < 2; i++) { const o = f(); await fin(o); disp(o); }
  let t = performance.now(); let o = f(); await fin(o); disp(o); const once = performance.now() - t;
  const reps = Math.max(3, Math.min(30, Math.floor(budget / Math.max(once, 1e-3))));
  t = performance.now(); let last: any = null;
  for (let i = 0; i < reps; i++) { if (last) disp(last); last = f(); }
  await fin(last); disp(last);
  return (performance.now() - t) / reps;
}
const cases: { name: string; flops: number; mg: () => any; tf: () => any }[] = [];
for (const n of sizes) {
  const a = mg.tensor(rnd(n * n), [n, n], { backend }), b = mg.tensor(rnd(n * n).reverse(), [n, n], { backend });
  const ta = tf.tensor(rnd(n * n), [n, n]), tb = tf.tensor(rnd(n * n).reverse(), [n, n]);
  cases.push({ name: `matmul ${n}`, flops: 2 * n ** 3, mg: () => mg.matmul(a, b), tf: () => tf.matMul(ta, tb) });
}
// argv[5]: 'noconv', 'conv' (the Omniglot 64->64 layer, the default) or 'allconv' (the bench's four).
const convMode = process.argv[5] ?? 'conv';
const convShapes: [string, number[], number[]][] = [
  ['conv omni 64-64', [160, 64, 28, 28], [64, 64, 3, 3]],
  ['conv omni 1-64', [160, 1, 28, 28], [64, 1, 3, 3]],
  ['conv mini 3-32', [80, 3, 84, 84], [32, 3, 3, 3]],
  ['conv mini 32-32', [80, 32, 42, 42], [32, 32, 3, 3]],
];
for (const [name, xs, ws] of convMode === 'noconv' ? [] : convMode === 'allconv' ? convShapes : convShapes.slice(0, 1)) {
  const nx = xs.reduce((p, v) => p * v, 1), nw = ws.reduce((p, v) => p * v, 1);
  const x = mg.tensor(rnd(nx), xs, { backend }), w = mg.tensor(rnd(nw), ws, { backend });
  const tx = tf.tensor(rnd(nx), xs), tw = tf.transpose(tf.tensor(rnd(nw), ws), [2, 3, 1, 0]);
  const flops = 2 * xs[0]! * ws[0]! * xs[2]! * xs[3]! * ws[1]! * ws[2]! * ws[3]!;
  cases.push({ name, flops, mg: () => mg.conv2d(x, w, { padding: 1 }), tf: () => tf.conv2d(tx, tw, 1, 'same', 'NCHW') });
}
const res: Record<string, Record<string, number[]>> = {};
for (let r = 0; r < rounds; r++) for (const c of cases) {
  res[c.name] ??= {};
  for (const v of [...variants, 'tfjs']) {
    let ms: number;
    if (v === 'tfjs') ms = await timeIt(c.tf, () => tfjsFinish(tf), (o) => o.dispose(), 600);
    else { if (v === 'default') delete process.env['METAGRAD_GEMM_BLOCK']; else process.env['METAGRAD_GEMM_BLOCK'] = v; ms = await timeIt(c.mg, () => backend.sync(), (o) => o.dispose(), 600); }
    (res[c.name]![v] ??= []).push(c.flops / ms / 1e6);
  }
}
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };
for (const [name, r] of Object.entries(res)) {
  const t = med(r['tfjs']!);
  console.log(name.padEnd(16), Object.entries(r).map(([v, a]) => `${v} ${med(a).toFixed(1)} (${(med(a) / t).toFixed(2)}x)`).join('  '));
}
mg.shutdownBackends(); process.exit(0);
