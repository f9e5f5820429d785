"""PyTorch side of `npm run bench:peers` (bench/peers.ts starts it, one child per measurement).

The same math as the metagrad side:
  omniglot  Conv-4 (64 channels, conv 3x3 padding 1 -> batch norm with batch statistics ->
            ReLU -> max-pool 2, x4, linear head), 5-way 1-shot, 15 queries, one inner SGD
            step (lr 0.4), meta-batch 32, outer Adam (lr 0.001); exact second order
            (create_graph=True) or first order. Tasks are adapted one after another and each
            task's query loss is backpropagated before the next (as learn2learn does).
  sinusoid  MLP 1-40-40-1 (ReLU), K=10 support / 10 query points, amplitude [0.1, 5], phase
            [0, pi], x in [-5, 5], one inner step (lr 0.01), meta-batch 25, MSE, outer Adam.
  ops       conv2d forward / input gradient / filter gradient, max-pool 2x2 forward and matmul,
            median of repeats.
Prints one JSON line. Threads: torch.set_num_threads(--threads); the parent also sets
OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE=SkylakeX where the CPU has AVX-512.
"""
import argparse
import io
import json
import math
import os
import random
import resource
import sys
import time
import zipfile

import torch
import torch.nn.functional as F


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


# --- Omniglot: the Vinyals train split, 28x28 area-resized, ink = 1, cached as one uint8 file ---

def load_omniglot(root, size=28):
    import numpy as np
    cache = os.path.join(os.environ.get('TMPDIR', '/tmp'), f'metagrad-bench-omniglot-{size}.npz')
    if os.path.exists(cache):
        d = np.load(cache, allow_pickle=False)
        return d['pixels'], list(d['names']), d['starts'], d['counts']
    from PIL import Image
    by_char = {}
    for z in ('images_background.zip', 'images_evaluation.zip'):
        with zipfile.ZipFile(os.path.join(root, z)) as zf:
            for n in sorted(zf.namelist()):
                if not n.endswith('.png'):
                    continue
                parts = n.split('/')
                key = parts[-3] + '/' + parts[-2]
                img = Image.open(io.BytesIO(zf.read(n))).convert('L').resize((size, size), Image.BOX)
                ink = 255 - np.asarray(img, dtype=np.uint8)
                by_char.setdefault(key, []).append(ink)
    names = sorted(by_char)
    starts, counts, chunks, at = [], [], [], 0
    for k in names:
        starts.append(at)
        counts.append(len(by_char[k]))
        chunks.extend(by_char[k])
        at += len(by_char[k])
    pixels = np.stack(chunks)
    tmp = cache + f'.{os.getpid()}.tmp.npz'
    np.savez(tmp, pixels=pixels, names=np.array(names), starts=np.array(starts), counts=np.array(counts))
    os.replace(tmp, cache)
    return pixels, names, np.array(starts), np.array(counts)


class Episodes:
    def __init__(self, root, ways=5, shots=1, queries=15):
        pixels, names, starts, counts = load_omniglot(root)
        self.pixels = torch.from_numpy(pixels)  # uint8 [images, 28, 28]
        index = {n: i for i, n in enumerate(names)}
        with open(os.path.join(root, 'splits', 'vinyals', 'train.txt')) as f:
            lines = [l.strip() for l in f if l.strip()]
        self.classes = []
        for l in lines:
            alpha, char, rot = l.split('/')
            i = index[alpha + '/' + char]
            self.classes.append((int(starts[i]), int(counts[i]), int(rot[3:]) // 90))
        self.ways, self.shots, self.queries = ways, shots, queries
        self.rng = random.Random(1)

    def episode(self):
        picked = self.rng.sample(self.classes, self.ways)
        sx, sy, qx, qy = [], [], [], []
        for label, (start, count, rot) in enumerate(picked):
            ids = self.rng.sample(range(start, start + count), self.shots + self.queries)
            imgs = torch.rot90(self.pixels[ids].float() / 255.0, rot, dims=(1, 2)).unsqueeze(1)
            sx.append(imgs[:self.shots]); qx.append(imgs[self.shots:])
            sy += [label] * self.shots; qy += [label] * self.queries
        return torch.cat(sx), torch.tensor(sy), torch.cat(qx), torch.tensor(qy)


def conv4_init(hidden=64, outputs=5):
    g = torch.Generator().manual_seed(0)
    p = {}
    cin = 1
    for i in range(4):
        bound = 1 / math.sqrt(cin * 9)
        p[f'w{i}'] = (torch.rand(hidden, cin, 3, 3, generator=g) * 2 - 1) * bound
        p[f'b{i}'] = torch.zeros(hidden)
        p[f'gamma{i}'] = torch.ones(hidden)
        p[f'beta{i}'] = torch.zeros(hidden)
        cin = hidden
    p['hw'] = (torch.rand(outputs, hidden, generator=g) * 2 - 1) / math.sqrt(hidden)
    p['hb'] = torch.zeros(outputs)
    return {k: v.requires_grad_() for k, v in p.items()}


def conv4_apply(p, x):
    for i in range(4):
        x = F.conv2d(x, p[f'w{i}'], p[f'b{i}'], padding=1)
        x = F.batch_norm(x, None, None, p[f'gamma{i}'], p[f'beta{i}'], training=True)
        x = F.max_pool2d(F.relu(x), 2)
    return F.linear(x.flatten(1), p['hw'], p['hb'])


def mlp_init(sizes=(1, 40, 40, 1)):
    g = torch.Generator().manual_seed(0)
    p = {}
    for i in range(len(sizes) - 1):
        bound = 1 / math.sqrt(sizes[i])
        p[f'w{i}'] = ((torch.rand(sizes[i + 1], sizes[i], generator=g) * 2 - 1) * bound).requires_grad_()
        p[f'b{i}'] = torch.zeros(sizes[i + 1]).requires_grad_()
    return p


def mlp_apply(p, x):
    n = len(p) // 2
    for i in range(n):
        x = F.linear(x, p[f'w{i}'], p[f'b{i}'])
        if i < n - 1:
            x = F.relu(x)
    return x


def sinusoid_task(rng, k=10, q=10):
    a, ph = rng.uniform(0.1, 5.0), rng.uniform(0, math.pi)
    x = torch.tensor([[rng.uniform(-5, 5)] for _ in range(k + q)])
    y = a * torch.sin(x - ph)
    return x[:k], y[:k], x[k:], y[k:]


def maml_iteration(params, opt, tasks, apply, loss_fn, inner_lr, first_order):
    opt.zero_grad()
    names = list(params)
    total = 0.0
    for sx, sy, qx, qy in tasks:
        support = loss_fn(apply(params, sx), sy)
        grads = torch.autograd.grad(support, [params[n] for n in names], create_graph=not first_order)
        fast = {n: params[n] - inner_lr * g for n, g in zip(names, grads)}
        query = loss_fn(apply(fast, qx), qy) / len(tasks)
        query.backward()
        total += query.item()
    opt.step()
    return total


def run_meta(args):
    if args.case == 'omniglot':
        eps = Episodes(args.data)
        params, apply, loss_fn, lr, batch = conv4_init(), conv4_apply, F.cross_entropy, 0.4, 32
        sample = eps.episode
    else:
        rng = random.Random(1)
        params, apply, loss_fn, lr, batch = mlp_init(), mlp_apply, F.mse_loss, 0.01, 25
        sample = lambda: sinusoid_task(rng)
    opt = torch.optim.Adam(params.values(), lr=0.001)
    times, cpu = [], []
    rss_before = rss_mb()
    for i in range(args.warmup + args.iters):
        tasks = [sample() for _ in range(batch)]
        t0, c0 = time.perf_counter(), time.process_time()
        maml_iteration(params, opt, tasks, apply, loss_fn, lr, args.order == 'first')
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if i >= args.warmup:
            times.append(dt)
            cpu.append(dc)
    return {'times': times, 'cpu': cpu, 'rssBeforeMB': rss_before, 'peakRssMB': peak_rss_mb()}


def median(xs):
    xs = sorted(xs)
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def timed(fn, min_time, min_reps=5):
    """(median wall seconds, median CPU seconds of the process) per call"""
    fn()
    ts, cs, spent = [], [], 0.0
    while spent < min_time or len(ts) < min_reps:
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        ts.append(dt)
        cs.append(dc)
        spent += dt
    return median(ts), median(cs)


def run_ops(args):
    cases = json.loads(args.cases)
    out, cpu = [], []
    torch.manual_seed(0)
    with torch.no_grad():
        for c in cases:
            if c['kind'] == 'matmul':
                n = c['n']
                a, b = torch.rand(n, n), torch.rand(n, n)
                fn = lambda: torch.mm(a, b)
            elif c['kind'] == 'maxpool-forward':
                x = torch.randn(c['n'], c['c'], c['h'], c['h'])
                fn = lambda: F.max_pool2d(x, 2)
            else:
                n, ci, co, h = c['n'], c['cIn'], c['cOut'], c['h']
                x, w, dy = torch.randn(n, ci, h, h), torch.randn(co, ci, 3, 3), torch.randn(n, co, h, h)
                if c['kind'] == 'conv-forward':
                    fn = lambda: F.conv2d(x, w, padding=1)
                elif c['kind'] == 'conv-input-grad':
                    fn = lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1)
                else:
                    fn = lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1)
            wall, proc = timed(fn, args.min_time)
            out.append(wall)
            cpu.append(proc)
    return {'seconds': out, 'cpu': cpu, 'peakRssMB': peak_rss_mb()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('case', choices=['omniglot', 'sinusoid', 'ops', 'info'])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--order', choices=['exact', 'first'], default='exact')
    ap.add_argument('--iters', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--data', default='')
    ap.add_argument('--cases', default='[]')
    ap.add_argument('--min-time', type=float, default=0.2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.case == 'info':
        r = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'mkldnn': torch.backends.mkldnn.is_available()}
    elif args.case == 'ops':
        r = run_ops(args)
    else:
        r = run_meta(args)
    sys.stdout.write(json.dumps(r) + '\n')


if __name__ == '__main__':
    main()
