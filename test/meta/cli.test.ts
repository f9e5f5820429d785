// The metagrad CLI end to end on a tiny budget: train, checkpoint files, eval, resume, bad flags.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configHash } from '../../ts/cli/run-state.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'cli', 'main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, METAGRAD_BACKEND: 'js' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

test('cli: train, checkpoint, eval, resume on sinusoid', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'metagrad-cli-'));
  try {
    const small = ['--iterations', '10', '--val-every', '5', '--val-tasks', '5', '--eval-tasks', '30', '--out', out];
    const a = run('train', 'maml', '--task', 'sinusoid', ...small);
    t.equal(a.code, 0, 'train exits 0');
    const line = a.out.split('\n').find((l) => l.startsWith('result:'));
    t.ok(line && /post-adaptation MSE \(1 step\) [\d.]+ ± [\d.]+ over 30 tasks; pretrained baseline/.test(line), `result line: ${line}`);
    for (const f of ['checkpoint.safetensors', 'config.json', 'history.jsonl', 'curve.svg', 'curve.png', 'baseline.safetensors']) t.ok(existsSync(join(out, f)), `wrote ${f}`);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    const history = readFileSync(join(out, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    t.equal(cfg.iteration, 10, 'config records the iteration');
    t.equal(history.filter((e) => e.kind === 'train' && e.series === 'main').length, 10, 'history has every iteration');
    t.equal(history.filter((e) => e.kind === 'val' && e.series === 'main').length, 2, 'validated twice');
    t.equal(history.filter((e) => e.kind === 'train' && e.series === 'baseline').length, 10, "and the baseline's iterations");
    const svg = readFileSync(join(out, 'curve.svg'), 'utf8');
    t.ok(svg.startsWith('<svg') && svg.includes('pretrained baseline'), 'learning curve is an SVG with the baseline series');
    t.deepEqual([...readFileSync(join(out, 'curve.png')).subarray(1, 4)], [80, 78, 71], 'and a PNG');

    const e = run('eval', '--checkpoint', out, '--tasks', '30');
    t.equal(e.code, 0, 'eval exits 0');
    const mse = (s: string) => /MSE \(1 step\) ([\d.]+ ± [\d.]+)/.exec(s)?.[1];
    t.equal(mse(e.out), mse(line ?? ''), 'eval reproduces the training run\'s final result from the checkpoint');

    const r = run('train', 'maml', '--task', 'sinusoid', ...small, '--iterations', '12', '--resume', '--no-baseline');
    t.equal(r.code, 0, 'resume exits 0');
    t.ok(/resuming .* at iteration 10 of 12/.test(r.out), 'resumes at the saved iteration');
    t.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).iteration, 12, 'continued to 12');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  t.end();
});

test('cli: --resume continues a run saved before --task-batch existed as it was trained (one task at a time), bit for bit', (t) => {
  const a = mkdtempSync(join(tmpdir(), 'metagrad-cli-old-')), b = mkdtempSync(join(tmpdir(), 'metagrad-cli-serial-'));
  // native: its task-batched sinusoid drifts from the serial path at float rounding, so the wrong path shows
  const runNative = (...args: string[]) => {
    const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, METAGRAD_BACKEND: 'native' } });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  try {
    const small = ['--val-every', '100', '--val-tasks', '2', '--eval-tasks', '2', '--no-baseline'];
    t.equal(runNative('train', 'maml', '--task', 'sinusoid', ...small, '--iterations', '8', '--task-batch', '0', '--out', b).code, 0, 'an uninterrupted serial run of 8 iterations');
    t.equal(runNative('train', 'maml', '--task', 'sinusoid', ...small, '--iterations', '4', '--task-batch', '0', '--out', a).code, 0, 'a serial run stopped at 4');
    // what a run saved before the option existed looks like: no taskBatch in its config, and
    // its checkpoint bound to that config (the hash in the safetensors header, same length)
    const path = join(a, 'config.json'), ckpt = join(a, 'checkpoint.safetensors');
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    const before = configHash(saved.config);
    delete saved.config.taskBatch;
    writeFileSync(path, JSON.stringify(saved, null, 1));
    const bytes = readFileSync(ckpt);
    const at = bytes.indexOf(before);
    t.ok(at > 8 && at < 8 + Number(bytes.readBigUInt64LE(0)), 'the checkpoint header holds the config hash');
    bytes.write(configHash(saved.config), at, 'latin1');
    writeFileSync(ckpt, bytes);
    const r = runNative('train', 'maml', '--task', 'sinusoid', ...small, '--iterations', '8', '--resume', '--out', a);
    t.equal(r.code, 0, `resumed to 8${r.code === 0 ? '' : `: ${r.out.slice(-300)}`}`);
    t.equal(JSON.parse(readFileSync(path, 'utf8')).config.taskBatch, 0, "the resumed config says taskBatch 0 (the learner's default on sinusoid is the whole meta-batch)");
    t.deepEqual(readFileSync(join(a, 'checkpoint.safetensors')), readFileSync(join(b, 'checkpoint.safetensors')), 'the same checkpoint as the uninterrupted serial run');
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
  t.end();
});

test('cli: bad flags list the valid values', (t) => {
  const cases: [string[], RegExp][] = [
    [['train', 'mamal'], /unknown learner 'mamal'; valid: maml, fomaml, reptile, anil, metasgd, mamlpp, imaml/],
    [['train', 'maml', '--task', 'mnist'], /--task must be one of sinusoid, omniglot[^;]*; got 'mnist'/],
    [['train', 'maml', '--backend', 'cuda'], /--backend must be one of js, native, webgpu; got 'cuda'/],
    [['train', 'maml', '--inner-steps', '0'], /--inner-steps must be >= 1; got 0/],
    [['train', 'maml', '--shots'], /flag --shots needs a value/],
    [['train', 'maml', '--frobnicate'], /unknown flag '--frobnicate'; valid flags: --task/],
    [['train', 'reptile', '--recompute-segment', '2'], /--recompute-segment applies to maml; not to reptile on sinusoid/],
    [['train', 'reptile', '--checkpoint-segment', '2'], /--checkpoint-segment applies to maml; not to reptile on sinusoid/],
    [['train', 'maml', '--task', 'omniglot', '--no-baseline'], /--no-baseline applies to task sinusoid; not to maml on omniglot/],
    [['train', 'maml', '--meta-lr', '0'], /--meta-lr must be positive; got 0/],
    [['eval'], /eval needs --checkpoint DIR/],
    [['fly'], /unknown command 'fly'; valid: train, eval, help/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    t.ok(r.code === 2 && re.test(r.out), `${args.join(' ')} → ${r.out.split('\n')[0]}`);
  }
  t.ok(/usage:/.test(run('--help').out), '--help prints usage');
  t.end();
});
