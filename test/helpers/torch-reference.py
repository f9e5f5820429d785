# The PyTorch side of test/helpers/differential.ts: reads programs as JSON on stdin (inputs,
# int inputs, one torch expression per node over v[...] and L[...], the output weights r and
# the HVP direction v), and writes, in float64 with PyTorch's own autograd, the value of
# sum(out * r), its gradient with respect to every input and the Hessian-vector product.
import json
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
out = []
for p in json.load(sys.stdin):
    xs = [torch.tensor(x['data'], dtype=torch.float64).reshape(x['shape']).requires_grad_(True) for x in p['inputs']]
    L = [torch.tensor(x['data'], dtype=torch.long).reshape(x['shape']) for x in p['ints']]
    v = list(xs)
    for expr in p['nodes']:
        v.append(eval(expr, {'torch': torch, 'F': F, 'v': v, 'L': L}))
    r = torch.tensor(p['r'], dtype=torch.float64).reshape(p['rshape'])
    loss = (v[-1] * r).sum()
    grads = torch.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    grads = [g if g is not None else torch.zeros_like(x) for g, x in zip(grads, xs)]
    dirs = [torch.tensor(d, dtype=torch.float64).reshape(x.shape) for d, x in zip(p['v'], xs)]
    dot = sum((g * d).sum() for g, d in zip(grads, dirs))
    if dot.requires_grad:
        hvps = torch.autograd.grad(dot, xs, allow_unused=True)
        hvps = [h if h is not None else torch.zeros_like(x) for h, x in zip(hvps, xs)]
    else:
        hvps = [torch.zeros_like(x) for x in xs]
    out.append({
        'value': loss.item(),
        'grads': [(g.detach() + 0).reshape(-1).tolist() for g in grads],  # + 0 materializes lazy zero tensors
        'hvps': [(h.detach() + 0).reshape(-1).tolist() for h in hvps],
    })
json.dump(out, sys.stdout)
