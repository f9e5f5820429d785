// Differential testing against an independent reference: seeded random programs (compositions
// of 2-7 ops over 2-3 inputs, with broadcasting, reductions, matmuls, softmax, indexing and
// losses) are run by metagrad on a backend and by PyTorch (float64, its own autograd) and
// compared at first and second order: the value of a random projection of the output, its
// gradient with respect to every input, and a Hessian-vector product. Where PyTorch is not
// installed, central finite differences in float64 on the js backend stand in for the
// gradients and HVPs (values then go unchecked).
// Used by test/autodiff/differential.test.ts (a small subset) and bench/differential.ts.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as mg from '../../ts/index.js';
import { rand } from './webgpu.js';

type Fn = (v: readonly mg.Tensor[], ints: readonly mg.Tensor[]) => mg.Tensor;
interface Value { shape: number[] }
export interface ProgramNode { op: string; js: Fn; py: string; shape: number[] }
export interface Program {
  seed: number;
  inputs: { shape: number[]; data: number[] }[];
  ints: { shape: number[]; data: number[] }[];
  nodes: ProgramNode[];
  /** cotangent weights of the output (loss = sum(out * r)) */
  r: number[];
  /** the HVP direction, one array per input */
  v: number[][];
}
export interface Derivs { value: number; grads: number[][]; hvps: number[][] }

const f32 = (x: number) => Math.fround(x);

// ---- the op table -------------------------------------------------------------------------
// Each unary entry: metagrad, then PyTorch (with {0} for the operand). Domains are kept
// smooth and finite for any real input (e.g. log of 1 + x², division by 1 + b²).
const UNARY: [string, (x: mg.Tensor) => mg.Tensor, string][] = [
  ['tanh', mg.tanh, 'torch.tanh({0})'],
  ['sigmoid', mg.sigmoid, 'torch.sigmoid({0})'],
  ['sin', mg.sin, 'torch.sin({0})'],
  ['cos', mg.cos, 'torch.cos({0})'],
  ['exp', (x) => mg.exp(mg.tanh(x)), 'torch.exp(torch.tanh({0}))'],
  ['square', mg.square, '({0})**2'],
  ['log1p(x²)', (x) => mg.log1p(mg.square(x)), 'torch.log1p(({0})**2)'],
  ['sqrt(x²+1)', (x) => mg.sqrt(mg.add(mg.square(x), 1)), 'torch.sqrt(({0})**2 + 1)'],
  ['1/(1+x²)', (x) => mg.reciprocal(mg.add(mg.square(x), 1)), '1 / (1 + ({0})**2)'],
  ['softplus', mg.softplus, 'F.softplus({0})'],
  ['gelu', mg.gelu, "F.gelu({0}, approximate='tanh')"],
  ['silu', mg.silu, 'F.silu({0})'],
  ['elu', (x) => mg.elu(x), 'F.elu({0})'],
  ['leakyRelu', (x) => mg.leakyRelu(x, 0.01), 'F.leaky_relu({0}, 0.01)'],
  ['relu', mg.relu, 'torch.relu({0})'],
  ['abs', mg.abs, 'torch.abs({0})'],
  ['neg', mg.neg, '-({0})'],
];

const BINARY: [string, (a: mg.Tensor, b: mg.Tensor) => mg.Tensor, string][] = [
  ['add', mg.add, '({0} + {1})'],
  ['sub', mg.sub, '({0} - {1})'],
  ['mul', mg.mul, '({0} * {1})'],
  ['div', (a, b) => mg.div(a, mg.add(mg.square(b), 1)), '({0} / (({1})**2 + 1))'],
  ['maximum', mg.maximum, 'torch.maximum({0}, {1})'],
  ['minimum', mg.minimum, 'torch.minimum({0}, {1})'],
  ['pow', (a, b) => mg.pow(mg.add(mg.sigmoid(a), 0.5), b), '((torch.sigmoid({0}) + 0.5) ** {1})'],
];

/** numpy broadcasting of two shapes, or null */
function broadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

/** A seeded random program. */
export function randomProgram(seed: number): Program {
  const rnd = rand(seed * 7919 + 13);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const m = 2 + int(3), n = 2 + int(3), k = 2 + int(3);
  const shapePool: number[][] = [[m, n], [m, n], [n], [1, n], [m, 1], [n, k], [m, n]];
  const nIn = 2 + int(2);
  const inputs = Array.from({ length: nIn }, (_, i) => {
    const shape = i === 0 ? [m, n] : pick(shapePool);
    const size = shape.reduce((p, d) => p * d, 1);
    return { shape, data: Array.from({ length: size }, () => f32(rnd() * 2.4 - 1.2)) };
  });
  const ints: Program['ints'] = [];
  const vals: Value[] = inputs.map((x) => ({ shape: x.shape }));
  const ref = (i: number) => `v[${i}]`;
  const nodes: ProgramNode[] = [];
  const push = (node: Omit<ProgramNode, 'shape'>, shape: number[]) => {
    nodes.push({ ...node, shape });
    vals.push({ shape });
  };
  const steps = 2 + int(6);
  for (let s = 0; s < steps; s++) {
    // operands: mostly the newest value, so programs compose deeply
    const a = rnd() < 0.6 ? vals.length - 1 : int(vals.length);
    const sa = vals[a]!.shape;
    const kind = pick(['unary', 'unary', 'binary', 'binary', 'reduce', 'softmax', 'matmul', 'transpose', 'cosine', 'index', 'loss']);
    if (kind === 'unary' || (sa.length === 0 && kind !== 'binary')) {
      const [name, f, py] = pick(UNARY);
      push({ op: name, js: (v) => f(v[a]!), py: py.replaceAll('{0}', ref(a)) }, sa);
    } else if (kind === 'binary') {
      const partners = vals.map((x, i) => [i, broadcast(sa, x.shape)] as const).filter(([i, sh]) => sh !== null && i !== a);
      if (partners.length === 0) continue;
      const [b, shape] = pick(partners);
      const [name, f, py] = pick(BINARY);
      const [x, y] = rnd() < 0.5 ? [a, b] : [b, a];
      push({ op: name, js: (v) => f(v[x]!, v[y]!), py: py.replaceAll('{0}', ref(x)).replaceAll('{1}', ref(y)) }, shape!);
    } else if (kind === 'reduce') {
      const axis = int(sa.length);
      const keep = rnd() < 0.4;
      const shape = keep ? sa.map((d, i) => (i === axis ? 1 : d)) : sa.filter((_, i) => i !== axis);
      const opts = { keepDims: keep };
      const kd = keep ? 'True' : 'False';
      const red = pick([
        ['sum', (x: mg.Tensor) => mg.sum(x, axis, opts), `torch.sum(${ref(a)}, dim=${axis}, keepdim=${kd})`],
        ['mean', (x: mg.Tensor) => mg.mean(x, axis, opts), `torch.mean(${ref(a)}, dim=${axis}, keepdim=${kd})`],
        ['max', (x: mg.Tensor) => mg.max(x, axis, opts), `torch.amax(${ref(a)}, dim=${axis}, keepdim=${kd})`],
        ['min', (x: mg.Tensor) => mg.min(x, axis, opts), `torch.amin(${ref(a)}, dim=${axis}, keepdim=${kd})`],
        ['logsumexp', (x: mg.Tensor) => mg.logsumexp(x, axis, opts), `torch.logsumexp(${ref(a)}, dim=${axis}, keepdim=${kd})`],
        ...(sa[axis]! >= 2 ? [['variance', (x: mg.Tensor) => mg.variance(x, axis, { ...opts, correction: 1 }), `torch.var(${ref(a)}, dim=${axis}, unbiased=True, keepdim=${kd})`] as const] : []),
      ] as const);
      push({ op: red[0], js: (v) => red[1](v[a]!), py: red[2] }, shape);
    } else if (kind === 'softmax') {
      const axis = int(sa.length);
      const log = rnd() < 0.5;
      push({ op: log ? 'logSoftmax' : 'softmax', js: (v) => (log ? mg.logSoftmax : mg.softmax)(v[a]!, axis), py: `torch.${log ? 'log_softmax' : 'softmax'}(${ref(a)}, dim=${axis})` }, sa);
    } else if (kind === 'matmul') {
      if (sa.length !== 2) continue;
      const partners = vals.map((x, i) => [i, x.shape] as const).filter(([, sh]) => (sh.length === 2 && sh[0] === sa[1]) || (sh.length === 1 && sh[0] === sa[1]));
      if (partners.length === 0) continue;
      const [b, sb] = pick(partners);
      push({ op: 'matmul', js: (v) => mg.matmul(v[a]!, v[b]!), py: `torch.matmul(${ref(a)}, ${ref(b)})` }, sb.length === 2 ? [sa[0]!, sb[1]!] : [sa[0]!]);
    } else if (kind === 'transpose') {
      if (sa.length !== 2) continue;
      push({ op: 'transpose', js: (v) => mg.transpose(v[a]!), py: `${ref(a)}.transpose(0, 1)` }, [sa[1]!, sa[0]!]);
    } else if (kind === 'cosine') {
      const partners = vals.map((x, i) => [i, broadcast(sa, x.shape)] as const).filter(([i, sh]) => sh !== null && sh.length > 0 && i !== a);
      if (partners.length === 0) continue;
      const [b, shape] = pick(partners);
      const axis = int(shape!.length);
      push({ op: 'cosineSimilarity', js: (v) => mg.cosineSimilarity(v[a]!, v[b]!, axis), py: `torch.cosine_similarity(${ref(a)}, ${ref(b)}, dim=${axis})` }, shape!.filter((_, i) => i !== axis));
    } else if (kind === 'index') {
      if (sa.length !== 2) continue;
      const len = 1 + int(4);
      const li = ints.length;
      ints.push({ shape: [len], data: Array.from({ length: len }, () => int(sa[0]!)) });
      push({ op: 'gather', js: (v, I) => mg.gather(v[a]!, I[li]!, 0), py: `torch.index_select(${ref(a)}, 0, L[${li}])` }, [len, sa[1]!]);
    } else {
      if (sa.length !== 2) continue;
      if (rnd() < 0.5) {
        const li = ints.length;
        ints.push({ shape: [sa[0]!], data: Array.from({ length: sa[0]! }, () => int(sa[1]!)) });
        push({ op: 'crossEntropy', js: (v, I) => mg.crossEntropy(v[a]!, I[li]!), py: `F.cross_entropy(${ref(a)}, L[${li}])` }, []);
      } else {
        const partners = vals.map((x, i) => [i, x.shape] as const).filter(([i, sh]) => sh.length === 2 && sh[1] === sa[1] && i !== a);
        if (partners.length === 0) continue;
        const [b, sb] = pick(partners);
        push({ op: 'pairwiseSquaredDistances', js: (v) => mg.pairwiseSquaredDistances(v[a]!, v[b]!), py: `((${ref(a)}[:, None, :] - ${ref(b)}[None, :, :]) ** 2).sum(-1)` }, [sa[0]!, sb[0]!]);
      }
    }
  }
  if (nodes.length === 0) {
    const [name, f, py] = UNARY[0]!;
    push({ op: name, js: (v) => f(v[0]!), py: py.replaceAll('{0}', ref(0)) }, inputs[0]!.shape);
  }
  const out = nodes[nodes.length - 1]!.shape;
  const rs = out.reduce((p, d) => p * d, 1);
  return {
    seed,
    inputs,
    ints,
    nodes,
    r: Array.from({ length: rs }, () => f32(rnd() * 2 - 1)),
    v: inputs.map((x) => x.data.map(() => f32(rnd() * 2 - 1))),
  };
}

/** The program's loss sum(out * r) as a function of its inputs. */
function lossFn(p: Program, ints: mg.Tensor[], r: mg.Tensor) {
  return (...xs: mg.Tensor[]): mg.Tensor => {
    const v: mg.Tensor[] = [...xs];
    for (const node of p.nodes) v.push(node.js(v, ints));
    return mg.sum(mg.mul(v[v.length - 1]!, r));
  };
}

/** Value, gradients and HVPs of a program on a backend. */
export async function runMetagrad(p: Program, backend: string, dtype: 'float32' | 'float64'): Promise<Derivs> {
  const o = { backend, dtype };
  const reads = mg.scope(() => {
    const xs = p.inputs.map((x) => mg.tensor(x.data, x.shape, { ...o, requiresGrad: true }));
    const ints = p.ints.map((x) => mg.tensor(x.data, x.shape, { dtype: 'int32', backend }));
    const r = mg.tensor(p.r, p.nodes[p.nodes.length - 1]!.shape, o);
    const f = lossFn(p, ints, r);
    const loss = f(...xs);
    const gs = mg.gradients(loss, xs, { createGraph: true });
    const dot = gs.map((g, i) => mg.sum(mg.mul(g, mg.tensor(p.v[i]!, p.inputs[i]!.shape, o)))).reduce((a, b) => mg.add(a, b));
    const hs = dot.requiresGrad ? mg.gradients(dot, xs) : xs.map((x) => mg.zerosLike(x));
    return [loss, ...gs, ...hs];
  });
  const arrays: number[][] = [];
  for (const t of reads) arrays.push(Array.from(await t.data()));
  mg.disposeAll(reads);
  const n = p.inputs.length;
  return { value: arrays[0]![0]!, grads: arrays.slice(1, 1 + n), hvps: arrays.slice(1 + n) };
}

/** Gradients and HVPs by central differences in float64 on js (the fallback reference). */
export function finiteDifferences(p: Program, eps = 1e-5): Derivs {
  return mg.scope(() => {
    const o = { backend: 'js', dtype: 'float64' as const };
    const ints = p.ints.map((x) => mg.tensor(x.data, x.shape, { dtype: 'int32', backend: 'js' }));
    const r = mg.tensor(p.r, p.nodes[p.nodes.length - 1]!.shape, o);
    const f = lossFn(p, ints, r);
    const at = (data: number[][]) => data.map((d, i) => mg.tensor(d, p.inputs[i]!.shape, o));
    const value = f(...at(p.inputs.map((x) => x.data))).itemSync();
    const gradAt = (data: number[][]): number[][] => {
      const xs = at(data).map((x) => mg.requireGrad(x));
      return mg.gradients(f(...xs), xs).map((g) => Array.from(g.dataSync()));
    };
    const base = p.inputs.map((x) => x.data.slice());
    const grads = base.map((d, i) => d.map((_, j) => {
      const plus = base.map((b) => b.slice()), minus = base.map((b) => b.slice());
      plus[i]![j]! += eps;
      minus[i]![j]! -= eps;
      return (f(...at(plus)).itemSync() - f(...at(minus)).itemSync()) / (2 * eps);
    }));
    // HVP: the directional derivative of the (analytic) gradient along v
    const plus = base.map((b, i) => b.map((x, j) => x + eps * p.v[i]![j]!));
    const minus = base.map((b, i) => b.map((x, j) => x - eps * p.v[i]![j]!));
    const gp = gradAt(plus), gm = gradAt(minus);
    const hvps = gp.map((g, i) => g.map((x, j) => (x - gm[i]![j]!) / (2 * eps)));
    return { value, grads, hvps };
  });
}

const SCRIPT = fileURLToPath(new URL('../../../test/helpers/torch-reference.py', import.meta.url));

/** PyTorch's results for many programs in one python process, or null when torch is missing. */
export function runTorch(programs: readonly Program[], python = process.env['METAGRAD_PYTHON'] ?? '/usr/bin/python3'): Derivs[] | null {
  const payload = JSON.stringify(programs.map((p) => ({ inputs: p.inputs, ints: p.ints, nodes: p.nodes.map((n) => n.py), r: p.r, rshape: p.nodes[p.nodes.length - 1]!.shape, v: p.v })));
  const res = spawnSync(python, [SCRIPT], { input: payload, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (res.error || res.status !== 0) {
    if (/No module named 'torch'/.test(res.stderr ?? '') || (res.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
    throw new Error(`torch reference failed (${res.status}): ${res.stderr || res.error}`);
  }
  return JSON.parse(res.stdout) as Derivs[];
}

export function torchVersion(python = process.env['METAGRAD_PYTHON'] ?? '/usr/bin/python3'): string | null {
  const res = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : null;
}

export interface Mismatch { what: string; ratio: number; detail: string }
export interface Comparison { value: Mismatch; grad: Mismatch; hvp: Mismatch; worst: Mismatch }

/**
 * The worst error of `got` against `ref` for the value, the gradients and the HVPs, each as a
 * multiple of the tolerance |got - ref| <= atol·scale + rtol·|ref|, where scale is
 * max(1, max |ref|) of that quantity (so tiny entries next to large ones are not over-judged).
 */
export function compareDerivs(got: Derivs, ref: Derivs, rtol: number, atol: number): Comparison {
  const none = (): Mismatch => ({ what: 'none', ratio: 0, detail: '' });
  const out = { value: none(), grad: none(), hvp: none() };
  const check = (kind: 'value' | 'grad' | 'hvp', what: string, a: readonly number[], b: readonly number[]) => {
    if (a.length !== b.length) {
      out[kind] = { what, ratio: Infinity, detail: `length ${a.length} vs ${b.length}` };
      return;
    }
    const scale = Math.max(1, ...b.map(Math.abs));
    for (let i = 0; i < b.length; i++) {
      const x = a[i]!, y = b[i]!;
      const ratio = Number.isNaN(x) || Number.isNaN(y) ? (Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity) : Math.abs(x - y) / (atol * scale + rtol * Math.abs(y));
      if (ratio > out[kind].ratio) out[kind] = { what, ratio, detail: `[${i}] ${x} vs ${y}` };
    }
  };
  check('value', 'value', [got.value], [ref.value]);
  got.grads.forEach((g, i) => check('grad', `grad of input ${i}`, g, ref.grads[i]!));
  got.hvps.forEach((h, i) => check('hvp', `HVP, input ${i}`, h, ref.hvps[i]!));
  const worst = [out.value, out.grad, out.hvp].reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return { ...out, worst };
}

export function describeProgram(p: Program): string {
  return `seed ${p.seed}: inputs ${p.inputs.map((x) => `[${x.shape.join(',')}]`).join(' ')}; ${p.nodes.map((n) => n.op).join(' -> ')}`;
}
