// The metric-based learners from the CLI, on the shared Omniglot with a tiny budget (2
// meta-updates, Conv-4 ×8, 5 meta-test tasks; float32 on js): each trains from its registry
// entry and ends with the meta-test result line (mean and 95% CI over --eval-tasks tasks);
// protonet runs its paper's protocol by default (60-way training episodes, 5 queries, one
// episode per Adam update halved every 2000); eval reproduces a result from a checkpoint and
// refuses to change what shaped the trained network.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../../ts/index.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'cli', 'main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, METAGRAD_BACKEND: 'js' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

let missing = '';
try {
  await mg.loadOmniglot({});
} catch (e) {
  missing = (e as Error).message;
}

const tiny = ['--task', 'omniglot', '--iterations', '2', '--val-tasks', '2', '--eval-tasks', '5', '--hidden', '8'];
const result = (out: string) => out.split('\n').find((l) => l.startsWith('result:'));
const accuracy = (line: string | undefined) => /accuracy ([\d.]+% ± [\d.]+%) over/.exec(line ?? '')?.[1];

// learner, its extra flags for the tiny run, what its header line must say
const cases: [string, string[], RegExp][] = [
  ['protonet', [], /training episodes 60-way, 5 queries per class.*euclidean distance, lr ×0\.5 every 2000 meta-updates, meta-batch 1, 2 iterations, outer Adam lr 0\.001/],
  ['matching', ['--fce', '--read-steps', '2'], /full-context embeddings, K=2 reads, constant lr, meta-batch 1/],
  ['relation', [], /relation module FC 8, lr ×0\.5 every 100000 meta-updates, meta-batch 1/],
  ['siamese', ['--siamese-hidden', '16'], /sigmoid layer 16, constant lr/],
  ['gnn', ['--gnn-hidden', '8', '--gnn-layers', '1'], /nf 8, 1\+1 graph layers/],
  ['r2d2', ['--ridge-lambda', '0.5'], /λ₀ 0\.5, α₀ 1, β₀ 0/],
];

for (const [name, flags, header] of cases) {
  test(`metric cli: train ${name} --task omniglot ends with the meta-test result`, (t) => {
    if (missing) {
      t.skip(`Omniglot not found: ${missing}`);
      t.end();
      return;
    }
    const out = mkdtempSync(join(tmpdir(), `metagrad-${name}-`));
    try {
      const a = run('train', name, ...tiny, ...flags, '--out', out);
      t.equal(a.code, 0, `exits 0${a.code === 0 ? '' : `: ${a.out}`}`);
      t.ok(header.test(a.out), `header: ${a.out.split('\n').find((l) => l.startsWith('metagrad:'))}`);
      const line = result(a.out);
      t.ok(line && new RegExp(`^result: ${name} 5-way 1-shot Omniglot test accuracy [\\d.]+% ± [\\d.]+% over 5 tasks$`).test(line), `result line: ${line}`);
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      t.equal(cfg.iteration, 2, 'config.json records the iterations done');
      t.equal(cfg.result.tasks, 5, 'and the meta-test');
      if (name === 'protonet') {
        t.deepEqual([cfg.config.trainWays, cfg.config.trainQueries, cfg.config.ways, cfg.config.queries, cfg.config.metaBatch, cfg.config.lrDecayEvery, cfg.config.lrDecay, cfg.config.downsample],
          [60, 5, 5, 15, 1, 2000, 0.5, 'maxpool'], "the paper's protocol is protonet's default");
        const e = run('eval', '--checkpoint', out, '--tasks', '5');
        t.equal(e.code, 0, 'eval exits 0');
        t.equal(accuracy(result(e.out)), accuracy(line), `eval reproduces the result from the checkpoint: ${result(e.out)}`);
        const s = run('eval', '--checkpoint', out, '--tasks', '5', '--downsample', 'stride');
        t.ok(s.code === 2 && /--downsample cannot be changed at eval: it shapes the network/.test(s.out), `a structural flag at eval: ${s.out.split('\n')[0]}`);
        const c = run('eval', '--checkpoint', out, '--tasks', '5', '--distance', 'cosine');
        t.equal(c.code, 0, 'a scoring flag (--distance) may change at eval');
        const w = run('eval', '--checkpoint', out, '--tasks', '5', '--ways', '20');
        t.ok(w.code === 0 && /^result: protonet \(2 iterations\) on Omniglot 20-way 1-shot .* over 5 tasks$/m.test(w.out), `eval on 20-way test tasks: ${result(w.out)}`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    t.end();
  });
}

test('metric cli: bad flags of the metric learners', (t) => {
  const cases: [string[], RegExp][] = [
    [['train', 'protonet', '--distance', 'manhattan'], /--distance must be one of euclidean, cosine; got 'manhattan'/],
    [['train', 'protonet', '--lr-decay', '2'], /--lr-decay must be <= 1; got 2/],
    [['train', 'matching', '--read-steps', '0'], /--read-steps must be >= 1; got 0/],
    [['train', 'protonet', '--task', 'sinusoid'], /protonet trains on omniglot; not on 'sinusoid'/],
    [['train', 'maml', '--fce'], /--fce applies to matching; not to maml on sinusoid/],
    [['train', 'protonet', '--downsample', 'avg'], /--downsample must be one of maxpool, stride; got 'avg'/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    t.ok(r.code === 2 && re.test(r.out), `${args.join(' ')} → ${r.out.split('\n')[0]}`);
  }
  if (!missing) {
    const g = run('train', 'gnn', '--task', 'omniglot', '--train-ways', '10', '--iterations', '1', '--out', join(tmpdir(), `metagrad-gnn-refused-${process.pid}`));
    t.ok(g.code === 2 && /gnn: the graph is built for one number of ways .* --train-ways 10 must equal --ways 5/.test(g.out), `gnn with more training ways: ${g.out.split('\n').find((l) => l.includes('gnn:'))}`);
    rmSync(join(tmpdir(), `metagrad-gnn-refused-${process.pid}`), { recursive: true, force: true });
  }
  const help = run('train', 'protonet', '--help').out;
  t.ok(/--train-ways N .*\(protonet: default 60\)/.test(help) && /--lr-decay-every N .*\(default 2000\) \{protonet\}/.test(help), "protonet's --help shows its protocol defaults");
  t.end();
});

test("metric cli: protonet's outer optimizer is Adam at the meta-lr, halved every --lr-decay-every updates", (t) => {
  const entry = mg.learnerEntry('protonet');
  const options = mg.resolveOptions('protonet', mg.learnerOptions(entry), { metaLr: 0.01, lrDecayEvery: 3 }, { task: 'omniglot' });
  const opt = mg.entryOptimizer(entry, { options, task: { name: 'omniglot', kind: 'classification', inputShape: [1, 28, 28], backbone: () => { throw new Error('unused'); } } });
  t.equal(opt.name, 'Adam');
  // Adam's first step on a fresh state moves by lr (m̂/√v̂ = 1); run 7 updates with gradient 1 and read each step's size
  let p: mg.ParamTree = { w: mg.zeros([1]) };
  let state: mg.ParamTree = opt.init(p);
  const sizes: number[] = [];
  for (let i = 0; i < 7; i++) {
    const before = (p as { w: mg.Tensor }).w.dataSync()[0]!;
    const r: { params: mg.ParamTree; state: mg.ParamTree } = opt.update(p, { w: mg.ones([1]) }, state);
    p = r.params;
    state = r.state;
    sizes.push(before - (p as { w: mg.Tensor }).w.dataSync()[0]!);
  }
  // constant gradient: m̂/√v̂ = 1 at every step, so each step's size is the scheduled rate
  const want = [0.01, 0.01, 0.01, 0.005, 0.005, 0.005, 0.0025];
  t.ok(sizes.every((s, i) => Math.abs(s - want[i]!) < 1e-6), `step sizes ${sizes.map((s) => s.toPrecision(3)).join(' ')} = ${want.join(' ')}`);
  const constant = mg.entryOptimizer(mg.learnerEntry('matching'), { options: mg.resolveOptions('matching', mg.learnerOptions(mg.learnerEntry('matching')), {}, { task: 'omniglot' }), task: { name: 'omniglot', kind: 'classification', inputShape: [1, 28, 28], backbone: () => { throw new Error('unused'); } } });
  const q = constant.update({ w: mg.zeros([1]) }, { w: mg.ones([1]) }, constant.init({ w: mg.zeros([1]) }));
  t.ok(Math.abs((q.params as { w: mg.Tensor }).w.dataSync()[0]! + 0.001) < 1e-7, 'matching keeps a constant rate (lr-decay-every 0): first step = meta-lr 0.001');
  t.end();
});
