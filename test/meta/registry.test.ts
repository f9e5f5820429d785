// The learner registry: a throwaway learner registered from outside the library (through
// Node's --import, exactly as a user's plugin would be) shows up in `metagrad --help` and
// trains, evaluates and resumes from the unchanged CLI entry point; and the registry's and
// option resolver's errors say what is valid.

import test from 'tape';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as mg from '../../ts/index.js';

const built = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts');
const main = join(built, 'cli', 'main.js');

// A learner in one file: joint training without adaptation, scored on the query set as is.
const THROWAWAY = `
import * as mg from ${JSON.stringify(pathToFileURL(join(built, 'index.js')).href)};
mg.registerLearner({
  name: 'throwaway',
  family: 'model-based',
  summary: 'a throwaway learner registered by test/meta/registry.test.ts',
  tasks: ['sinusoid'],
  options: { wobble: { kind: 'num', default: 0.5, above: 0, help: 'a throwaway option, recorded in config.json' } },
  overrides: { metaBatch: 4 },
  build: (model, ctx) => ({
    name: 'throwaway',
    init: (params) => params,
    metaGrad: (meta, tasks) => mg.meanOverTasks('throwaway', meta, tasks, (task) => mg.tapeTaskGrad(meta, (p) => mg.batchLoss(model, p, task.query))),
    scoreTask: (meta, task) => mg.batchLoss(model, meta, task.query),
  }),
  checkpoint: 'meta: θ; opt: Adam moments and step',
});
`;

test('registry: a throwaway learner appears in --help and trains, evaluates and resumes from the CLI', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'metagrad-registry-'));
  try {
    const plugin = join(dir, 'throwaway.mjs');
    writeFileSync(plugin, THROWAWAY);
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(plugin).href, main, ...args], { encoding: 'utf8', env: { ...process.env, METAGRAD_BACKEND: 'js' } });
      return { code: r.status, out: `${r.stdout}${r.stderr}` };
    };
    const help = run('--help');
    t.equal(help.code, 0, '--help exits 0');
    t.ok(/^\s+throwaway\s+model-based\s+a throwaway learner registered by/m.test(help.out), 'the learner is listed with its family and summary');
    t.ok(/--wobble N\s+a throwaway option, recorded in config.json \(default 0\.5\) \{throwaway\}/.test(help.out), 'its option is a flag with its default and owner');
    t.ok(/throwaway: default 4/.test(help.out), 'its override of a common default is shown');

    const out = join(dir, 'run');
    const small = ['--iterations', '4', '--val-every', '2', '--val-tasks', '3', '--eval-tasks', '10', '--no-baseline', '--out', out];
    const a = run('train', 'throwaway', '--wobble', '0.25', ...small);
    t.equal(a.code, 0, `train throwaway exits 0${a.code === 0 ? '' : `: ${a.out}`}`);
    t.ok(/metagrad: throwaway on sinusoid regression, K=10 points; meta-batch 4, 4 iterations, outer Adam lr 0.001/.test(a.out), 'the header has its meta-batch override and the default outer optimizer');
    const line = a.out.split('\n').find((l) => l.startsWith('result:'));
    t.ok(line && /^result: throwaway sinusoid K=10 post-adaptation MSE [\d.]+ ± [\d.]+ over 10 tasks$/.test(line), `result line: ${line}`);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    t.equal(cfg.config.algo, 'throwaway', 'config.json names the learner');
    t.equal(cfg.config.wobble, 0.25, "config.json records the learner's own option");
    t.equal(cfg.config.metaBatch, 4, 'and the overridden common option');
    t.ok(existsSync(join(out, 'checkpoint.safetensors')), 'checkpoint written');

    const e = run('eval', '--checkpoint', out, '--tasks', '10');
    t.equal(e.code, 0, 'eval exits 0');
    const mse = (s: string) => /MSE ([\d.]+ ± [\d.]+) over/.exec(s)?.[1];
    t.equal(mse(e.out), mse(line ?? ''), 'eval reproduces the final result from the checkpoint');

    const r = run('train', 'throwaway', ...small, '--iterations', '6', '--resume');
    t.equal(r.code, 0, 'resume exits 0');
    t.ok(/resuming .* at iteration 4 of 6/.test(r.out), 'resumes at the saved iteration');

    const bad = run('train', 'throwaway', '--wobble', '0');
    t.ok(bad.code === 2 && /--wobble must be positive; got 0/.test(bad.out), `a bad value of its option: ${bad.out.split('\n')[0]}`);
    const wrong = run('train', 'maml', '--wobble', '1');
    t.ok(wrong.code === 2 && /--wobble applies to throwaway; not to maml on sinusoid/.test(wrong.out), `its flag on another learner: ${wrong.out.split('\n')[0]}`);
    const task = run('train', 'throwaway', '--task', 'omniglot');
    t.ok(task.code === 2 && /throwaway trains on sinusoid; not on 'omniglot'/.test(task.out), `a task it does not train on: ${task.out.split('\n')[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('registry: entries are checked and lookups name the valid learners and tasks', (t) => {
  const names = mg.learnerEntries().map((e) => e.name);
  t.deepEqual(names.slice(0, 8), ['maml', 'fomaml', 'reptile', 'anil', 'metasgd', 'mamlpp', 'imaml', 'pretrained'], 'the built-in gradient-based learners, in learners.ts order');
  t.throws(() => mg.learnerEntry('mamal'), (e: Error) => e instanceof mg.ValueError && /^learnerEntry: unknown learner 'mamal'; valid: maml, fomaml/.test(e.message), 'unknown learner');
  t.throws(() => mg.registerLearner(mg.learnerEntry('maml')), (e: Error) => e instanceof mg.ValueError && /already registered/.test(e.message), 'duplicate name');
  const base = { name: 'tmp-learner', family: 'metric-based' as const, summary: 's', tasks: ['omniglot'], options: {}, build: () => { throw new Error('unused'); }, checkpoint: 'c' };
  t.throws(() => mg.registerLearner({ ...base, options: { ways: { kind: 'int', default: 3, help: 'h' } } }), /'ways' is a common option; change its default with overrides/, 'own options may not shadow common ones');
  t.throws(() => mg.registerLearner({ ...base, overrides: { wobble: 1 } }), /overrides 'wobble', which is not a common option/, 'overrides name common options only');
  t.throws(() => mg.taskEntry('mnist'), (e: Error) => e instanceof mg.ValueError && /^taskEntry: unknown task 'mnist'; valid: sinusoid, omniglot/.test(e.message), 'unknown task');
  mg.registerLearner({ ...base, overrides: { metaBatch: 1 } });
  t.equal(mg.learnerOptions(mg.learnerEntry('tmp-learner'))['metaBatch']!.default, 1, 'overrides change the common default');
  mg.unregisterLearner('tmp-learner');
  t.notOk(mg.learnerEntries().some((e) => e.name === 'tmp-learner'), 'unregistered');
  t.end();
});

test('registry: options resolve per task, by function, and refuse bad values with ValueError', (t) => {
  const specs = mg.learnerOptions(mg.learnerEntry('maml'));
  const sine = mg.resolveOptions('maml', specs, {}, { task: 'sinusoid' });
  t.deepEqual([sine['shots'], sine['innerSteps'], sine['testSteps'], sine['innerLr'], sine['metaBatch'], sine['iterations']], [10, 1, 1, 0.01, 10, 2000], 'sinusoid defaults');
  const omni = mg.resolveOptions('maml', specs, { innerSteps: 3 }, { task: 'omniglot' });
  t.deepEqual([omni['shots'], omni['innerSteps'], omni['testSteps'], omni['innerLr'], omni['queries']], [1, 3, 3, 0.4, 15], 'omniglot defaults; testSteps follows the given innerSteps');
  t.equal(mg.resolveOptions('reptile', mg.learnerOptions(mg.learnerEntry('reptile')), {}, { task: 'sinusoid' })['metaLr'], 1, "reptile's outer step default");
  t.equal(mg.resolveOptions('imaml', mg.learnerOptions(mg.learnerEntry('imaml')), {}, { task: 'omniglot' })['innerSteps'], 10, "imaml's inner steps default");
  for (const [given, re] of [
    [{ innerSteps: 0 }, /innerSteps must be >= 1; got 0/],
    [{ innerLr: -1 }, /innerLr must be positive; got -1/],
    [{ shots: 1.5 }, /shots must be an integer; got 1.5/],
    [{ firstOrder: 'yes' }, /firstOrder must be true or false; got 'yes'/],
    [{ frobnicate: 1 }, /unknown option 'frobnicate'; valid: ways, shots/],
  ] as [Record<string, unknown>, RegExp][]) {
    t.throws(() => mg.resolveOptions('maml', specs, given, { task: 'sinusoid' }), (e: Error) => e instanceof mg.ValueError && re.test(e.message), re.source);
  }
  t.end();
});
