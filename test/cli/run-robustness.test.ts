// The CLI under interruption and hostile conditions: Ctrl-C saves and resumes exactly,
// kill -9 at random moments resumes bit-identically or refuses clearly, a mismatched
// checkpoint/config pair is refused, unwritable output fails fast, run folders move,
// changed flags on resume are applied or refused, and config.json is validated.
import test from 'tape';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'cli', 'main.js');
const env = { ...process.env, METAGRAD_BACKEND: 'js' };
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
};
const tiny = (out: string, iterations: number) => ['train', 'maml', '--task', 'sinusoid', '--iterations', String(iterations), '--meta-batch', '2', '--val-every', '3', '--checkpoint-every', '3', '--val-tasks', '2', '--eval-tasks', '5', '--no-baseline', '--out', out];
const tmp = () => mkdtempSync(join(tmpdir(), 'metagrad-run-'));
const weights = (dir: string) => readFileSync(join(dir, 'checkpoint.safetensors'));
const historyLines = (dir: string) => (existsSync(join(dir, 'history.jsonl')) ? readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"train"')).length : 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start a long training run; resolve once it has done `after` iterations, then send `signal`. */
async function interrupted(out: string, signal: NodeJS.Signals, after: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const child = spawn(process.execPath, [main, ...tiny(out, 3000)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  const t0 = Date.now();
  while (historyLines(out) < after && Date.now() - t0 < 90_000) await sleep(20);
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const r = await closed;
  clearTimeout(killer);
  return { ...r, out: text };
}

test('cli: Ctrl-C finishes the iteration, saves, exits 130, and --resume continues exactly', async (t) => {
  const ref = tmp(), dir = tmp();
  try {
    const r = await interrupted(dir, 'SIGINT', 7);
    t.equal(r.code, 130, `exits 130 (${r.signal ?? r.code})`);
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).iteration as number;
    t.ok(saved >= 7, `saved at iteration ${saved}`);
    t.ok(new RegExp(`saved iteration ${saved} of 3000 to .*\\n.*resume with: metagrad train maml --task sinusoid --out .* --resume`).test(r.out), 'says where it saved and how to resume');
    t.ok(r.out.includes('\x1b[?25h'), 'gives the terminal its cursor back');
    t.equal(historyLines(dir), saved, 'no iteration before the signal is lost from the history');
    const total = saved + 4;
    const a = run(...tiny(dir, total), '--resume');
    t.equal(a.code, 0, 'resume exits 0');
    t.ok(a.out.includes(`resuming ${dir} at iteration ${saved} of ${total}`), 'the iteration count continues');
    t.equal(run(...tiny(ref, total)).code, 0, 'uninterrupted reference run');
    t.ok(weights(dir).equals(weights(ref)), 'interrupted + resumed = uninterrupted, bit for bit');
    t.equal(historyLines(dir), total, 'history has each iteration once');
  } finally {
    rmSync(ref, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: kill -9 at random moments, then --resume: bit-identical or a clear refusal', async (t) => {
  const ref = tmp();
  const total = 14;
  try {
    t.equal(run(...tiny(ref, total)).code, 0, 'reference run');
    for (let trial = 0; trial < 3; trial++) {
      const dir = tmp();
      try {
        await interrupted(dir, 'SIGKILL', 1 + Math.floor(Math.random() * 10));
        if (!existsSync(join(dir, 'config.json'))) {
          t.pass(`trial ${trial}: killed before the first checkpoint (nothing to resume)`);
          continue;
        }
        const a = run(...tiny(dir, total), '--resume');
        if (a.code === 0) t.ok(weights(dir).equals(weights(ref)), `trial ${trial}: resumed bit-identically (${/at iteration (\d+)/.exec(a.out)?.[1]})`);
        else t.ok(/do not belong together/.test(a.out), `trial ${trial}: refused clearly: ${a.out.split('\n').find((l) => l.includes('metagrad:'))}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(ref, { recursive: true, force: true });
  }
});

test('cli: a checkpoint and config.json from different moments are refused', (t) => {
  const dir = tmp();
  try {
    t.equal(run(...tiny(dir, 3)).code, 0, 'first 3 iterations');
    const old = readFileSync(join(dir, 'config.json'));
    t.equal(run(...tiny(dir, 6), '--resume').code, 0, 'then 6');
    writeFileSync(join(dir, 'config.json'), old); // a kill between the two writes leaves this pair
    const r = run(...tiny(dir, 9), '--resume');
    t.ok(r.code !== 0 && /checkpoint.safetensors \(iteration 6\) and config.json \(iteration 3[^)]*\) do not belong together/.test(r.out), r.out.split('\n').find((l) => l.includes('metagrad:')));
    const cfg = JSON.parse(old.toString());
    cfg.iteration = 1e9;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const big = run(...tiny(dir, 9), '--resume');
    t.ok(big.code !== 0 && /iteration must be an integer from 0 to the run's 3 iterations, got 1000000000/.test(big.out), 'iteration 1e9 is rejected');
    cfg.iteration = 3;
    cfg.config.metaBatch = -2;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    t.ok(/metaBatch must be >= 1; got -2/.test(run(...tiny(dir, 9), '--resume').out), 'bad config values are rejected by name');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('cli: unwritable --out fails within seconds, before training', (t) => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'file'), 'x');
    for (const out of [join(dir, 'file', 'run'), '/proc/metagrad-run']) {
      const t0 = Date.now();
      const r = run(...tiny(out, 3));
      t.ok(r.code !== 0 && /cannot write there/.test(r.out) && Date.now() - t0 < 30_000, `${out}: ${r.out.split('\n').find((l) => l.includes('metagrad:'))}`);
    }
    // A full disk: file size limited to 16 KiB, so the write probe (or the first checkpoint) fails.
    const t0 = Date.now();
    const r = spawnSync('bash', ['-c', `ulimit -f 16; exec "${process.execPath}" "${main}" ${tiny(join(dir, 'full'), 6).join(' ')}`], { encoding: 'utf8', env, timeout: 60_000 });
    t.ok(r.status !== 0 && r.status !== null && Date.now() - t0 < 30_000, `a size-limited disk exits ${r.status ?? r.signal} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${`${r.stdout}${r.stderr}`.split('\n').find((l) => l.includes('metagrad:'))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('cli: a run folder moves; changed flags on resume are applied or refused; --version', (t) => {
  const a = tmp(), b = `${a}-moved`, copy = `${a}-copy`;
  try {
    t.equal(run(...tiny(a, 3)).code, 0, 'train into A');
    renameSync(a, b);
    const r = run(...tiny(b, 6), '--resume');
    t.ok(r.code === 0 && r.out.includes(`resuming ${b} at iteration 3 of 6`) && !existsSync(a), 'resumes from the moved folder and writes only there');
    cpSync(b, copy, { recursive: true });
    const before = weights(b);
    t.equal(run(...tiny(copy, 9), '--resume', '--meta-lr', '0.0005').code, 0, 'a changed learning rate is applied');
    t.equal(JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8')).config.metaLr, 0.0005, 'and recorded');
    t.ok(weights(b).equals(before), 'resuming a copy leaves the original alone');
    const refused = run(...tiny(copy, 12), '--resume', '--inner-lr', '0.5');
    t.ok(refused.code === 2 && /trained with different settings: --inner-lr \(saved 0.01, given 0.5\)/.test(refused.out), refused.out.split('\n').find((l) => l.includes('metagrad:')));
    t.ok(/^metagrad \d+\.\d+\.\d+/.test(run('--version').out), '--version');
    t.ok(/--checkpoint-every N\s+save a checkpoint every N iterations \(default iterations\/10\)/.test(run('--help').out), 'help states the checkpoint default');
  } finally {
    for (const d of [a, b, copy]) rmSync(d, { recursive: true, force: true });
  }
  t.end();
});
