// The CLI end to end for the learned optimizers and the model-based learners, each on a tiny
// budget (2 meta-iterations, tiny networks, a few tasks): `metagrad train <learner>` writes its
// run folder and result line, and `metagrad eval --checkpoint` rebuilds the learner from
// config.json, loads the checkpoint and reproduces the same result on the same task stream.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../../ts/index.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'cli', 'main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, METAGRAD_BACKEND: 'js' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

const tiny = ['--iterations', '2', '--meta-batch', '2', '--val-tasks', '2', '--eval-tasks', '6'];
const conv = ['--hidden', '4', '--queries', '1'];
const cases: { learner: string; task: string; flags: string[]; result: RegExp }[] = [
  { learner: 'lstm-optimizer', task: 'quadratic', flags: ['--steps', '6', '--truncation', '3', '--functions', '4', '--meta-batch', '1'], result: /held-out quadratics loss after 6 steps [\d.]+ ± [\d.]+ over 6 tasks/ },
  { learner: 'meta-lstm', task: 'omniglot', flags: [...conv, '--steps', '1'], result: /5-way 1-shot Omniglot test accuracy [\d.]+% ± [\d.]+% over 6 tasks/ },
  { learner: 'mann', task: 'omniglot-sequences', flags: ['--controller', '8', '--slots', '8', '--width', '4', '--reads', '1', '--instances', '3'], result: /5-class × 3-instance Omniglot sequence accuracy \(all steps\) [\d.]+% ± [\d.]+% over 6 tasks/ },
  { learner: 'mann', task: 'omniglot', flags: ['--controller', '8', '--slots', '8', '--width', '4', '--reads', '1', '--queries', '1'], result: /5-way 1-shot Omniglot test accuracy [\d.]+% ± [\d.]+% over 6 tasks/ },
  { learner: 'metanet', task: 'omniglot', flags: [...conv, '--meta-hidden', '4'], result: /5-way 1-shot Omniglot test accuracy/ },
  { learner: 'snail', task: 'omniglot', flags: [...conv, '--attention', '4:4,4:4,4:4', '--filters', '4'], result: /5-way 1-shot Omniglot test accuracy/ },
  { learner: 'hypernet', task: 'omniglot', flags: [...conv, '--hyper-hidden', '8'], result: /5-way 1-shot Omniglot test accuracy/ },
];

const omniglot = await mg.loadOmniglot({}).then(() => true, () => false);

for (const c of cases) {
  test(`cli: ${c.learner} on ${c.task}: train (2 iterations), checkpoint, eval reproduces the result`, (t) => {
    if (c.task !== 'quadratic' && !omniglot) {
      t.skip('Omniglot not found (METAGRAD_DATA / METAGRAD_OMNIGLOT)');
      return t.end();
    }
    const out = mkdtempSync(join(tmpdir(), `metagrad-cli-${c.learner}-`));
    try {
      const t0 = Date.now();
      const a = run('train', c.learner, '--task', c.task, ...tiny, ...c.flags, '--out', out);
      t.equal(a.code, 0, `train exits 0 (${((Date.now() - t0) / 1000).toFixed(1)} s)${a.code === 0 ? '' : `: ${a.out.slice(-600)}`}`);
      const line = a.out.split('\n').find((l) => l.startsWith('result:'));
      t.ok(line && c.result.test(line), `result line: ${line}`);
      for (const f of ['checkpoint.safetensors', 'config.json', 'history.jsonl', 'curve.svg']) t.ok(existsSync(join(out, f)), `wrote ${f}`);
      if (c.task === 'quadratic') t.ok(/\| val loss /.test(a.out) && !/val mse/.test(a.out), "the progress bar names the quadratics' validation score a loss, not an MSE");
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      t.equal(cfg.iteration, 2, 'config records 2 iterations');
      const e = run('eval', '--checkpoint', out, '--tasks', '6');
      t.equal(e.code, 0, 'eval exits 0');
      const score = (s: string) => /(-?[\d.]+%? ± [\d.]+%?) over 6 tasks/.exec(s)?.[1];
      t.ok(score(line ?? '') !== undefined && score(e.out) === score(line ?? ''), `eval reproduces the run's result from the checkpoint (${score(e.out)})`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    t.end();
  });
}

for (const c of cases.filter((k) => k.learner === 'lstm-optimizer' || (k.learner === 'mann' && k.task === 'omniglot'))) {
  test(`cli: ${c.learner} on ${c.task}: 2 iterations + --resume to 4 = 4 iterations straight (its random draws come from the seed and the iteration)`, (t) => {
    if (c.task !== 'quadratic' && !omniglot) {
      t.skip('Omniglot not found');
      return t.end();
    }
    const a = mkdtempSync(join(tmpdir(), 'metagrad-cli-a-')), b = mkdtempSync(join(tmpdir(), 'metagrad-cli-b-'));
    try {
      const flags = [...tiny, ...c.flags, '--checkpoint-every', '1'];
      const straight = run('train', c.learner, '--task', c.task, ...flags, '--iterations', '4', '--out', a);
      const first = run('train', c.learner, '--task', c.task, ...flags, '--iterations', '2', '--out', b);
      const resumed = run('train', c.learner, '--task', c.task, ...flags, '--iterations', '4', '--out', b, '--resume');
      t.ok(straight.code === 0 && first.code === 0 && resumed.code === 0, 'all three runs exit 0');
      const result = (o: string) => o.split('\n').find((l) => l.startsWith('result:'));
      t.ok(result(straight.out) !== undefined && result(straight.out) === result(resumed.out), `same result line: ${result(resumed.out)}`);
      t.deepEqual(readFileSync(join(b, 'checkpoint.safetensors')), readFileSync(join(a, 'checkpoint.safetensors')), 'bit-identical checkpoints');
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
    t.end();
  });
}

test('cli: the new learners refuse tasks and flags they do not take', (t) => {
  const cases: [string[], RegExp][] = [
    [['train', 'snail', '--task', 'quadratic'], /snail trains on omniglot; not on 'quadratic'/],
    [['train', 'lstm-optimizer', '--task', 'omniglot-sequences'], /lstm-optimizer trains on quadratic, omniglot; not on 'omniglot-sequences'/],
    [['train', 'hypernet', '--slots', '3'], /--slots applies to mann; not to hypernet on omniglot/],
    [['train', 'mann', '--gamma', '2'], /--gamma must be <= 1; got 2/],
    [['train', 'lstm-optimizer', '--task', 'quadratic', '--functions', '0'], /--functions must be >= 1; got 0/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    t.ok(r.code === 2 && re.test(r.out), `${args.join(' ')} → ${r.out.split('\n')[0]}`);
  }
  t.end();
});
