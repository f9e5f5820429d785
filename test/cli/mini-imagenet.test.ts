// `metagrad train maml --task mini-imagenet --data DIR` on a tiny mini-ImageNet the test
// writes (Ravi & Larochelle's images/ + split CSVs, 3 solid-colour JPEGs per class): the run
// trains an RGB Conv-4 (3 input channels) and ends with the meta-test result line; the
// task's defaults are the MAML paper's (84 px, 32 channels, meta-batch 4, α = 0.01); a
// missing folder is an error that says where it looked.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../../ts/index.js';
import { writeMiniImageNet } from '../helpers/images.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'cli', 'main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, METAGRAD_BACKEND: 'js', METAGRAD_MINI_IMAGENET: '' }, timeout: 240_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

test('cli: train maml --task mini-imagenet on a generated image folder set', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mg-mini-cli-'));
  try {
    const data = join(work, 'mini');
    const splits = { train: ['n01', 'n02', 'n03', 'n04', 'n05', 'n06'], val: ['n11', 'n12', 'n13', 'n14', 'n15'], test: ['n21', 'n22', 'n23', 'n24', 'n25'] };
    writeMiniImageNet(data, splits, (w) => [(Number(w.slice(1)) * 53) % 256, (Number(w.slice(1)) * 97) % 256, (Number(w.slice(1)) * 151) % 256], 3);
    const out = join(work, 'run');
    const a = run('train', 'maml', '--task', 'mini-imagenet', '--data', data, '--iterations', '2', '--val-tasks', '2', '--eval-tasks', '3',
      '--image-size', '16', '--hidden', '4', '--queries', '1', '--inner-steps', '1', '--out', out);
    t.equal(a.code, 0, `exits 0${a.code === 0 ? '' : `: ${a.out.slice(-1500)}`}`);
    const header = a.out.split('\n').find((l) => l.startsWith('metagrad:')) ?? '';
    t.ok(/maml on mini-ImageNet 5-way 1-shot \(6 train \/ 5 val \/ 5 test classes, 16 px RGB from .*\), Conv-4 ×4; 1 inner step\(s\) α=0\.01, meta-batch 4, 2 iterations/.test(header), `header: ${header}`);
    const line = a.out.split('\n').find((l) => l.startsWith('result:'));
    t.ok(line && /^result: maml 5-way 1-shot mini-ImageNet test accuracy [\d.]+% ± [\d.]+% over 3 tasks$/.test(line), `result line: ${line}`);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    t.deepEqual([cfg.config.task, cfg.config.imageSize, cfg.config.hidden, cfg.config.metaBatch, cfg.config.innerLr, cfg.iteration],
      ['mini-imagenet', 16, 4, 4, 0.01, 2], 'config.json: the task, the flags given, the task defaults for the rest, 2 iterations done');
    const { tensors } = await mg.loadSafetensors(join(out, 'checkpoint.safetensors'));
    t.deepEqual(tensors['meta.features.blocks.0.conv.w']?.shape, [4, 3, 3, 3], 'the checkpoint holds an RGB Conv-4: the first convolution has 3 input channels');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('cli: mini-imagenet defaults are the MAML paper settings; a missing folder says where it looked', (t) => {
  const help = run('train', 'maml', '--task', 'mini-imagenet', '--help');
  t.equal(help.code, 0);
  for (const [flag, want] of [['--image-size', '84 mini-imagenet'], ['--hidden', '32 mini-imagenet'], ['--meta-batch', '4 mini-imagenet'], ['--inner-lr', '0.01 mini-imagenet']]) {
    const l = help.out.split('\n').find((x) => x.trimStart().startsWith(`${flag} `)) ?? '';
    t.ok(l.includes(want), `${flag}: ${l.trim().slice(0, 140)}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'mg-mini-cli-'));
  try {
    const r = run('train', 'maml', '--task', 'mini-imagenet', '--data', join(work, 'nowhere'), '--iterations', '1', '--out', join(work, 'run'));
    t.notEqual(r.code, 0, 'fails');
    t.ok(/DataError: mini-imagenet: .*no mini-ImageNet .* found; looked in .*nowhere \(the path given\)/.test(r.out), `says where it looked: ${r.out.trim().split('\n').pop()?.slice(0, 200)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  t.end();
});
