// `metagrad train --backend webgpu` in Node: the CLI must install Dawn as the GPU provider
// itself (it does not go through the Node entry, ts/index.ts). Since the browser entry split
// it did not, and every WebGPU training run from the command line failed with "no
// navigator.gpu here".
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webgpuOrSkip } from '../helpers/webgpu.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'cli', 'main.js');

test('cli: train --backend webgpu runs on Dawn in Node', async (t) => {
  if (!(await webgpuOrSkip(t))) return;
  const out = mkdtempSync(join(tmpdir(), 'metagrad-webgpu-run-'));
  try {
    const args = ['train', 'maml', '--task', 'sinusoid', '--backend', 'webgpu', '--iterations', '3', '--meta-batch', '2', '--val-every', '3', '--val-tasks', '2', '--eval-tasks', '5', '--no-baseline', '--out', out];
    const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 180_000 });
    const text = `${r.stdout}${r.stderr}`;
    t.equal(r.status, 0, `exits 0${r.status === 0 ? '' : `: ${text.split('\n').find((l) => l.includes('metagrad:')) ?? text.slice(-400)}`}`);
    t.ok(/result: maml sinusoid .* over 5 tasks/.test(text), 'trains and evaluates');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
