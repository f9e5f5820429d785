// The page of the real-browser test: metagrad's browser entry, bundled by esbuild for the
// browser with no shims, runs the workload on js and on WebGPU (navigator.gpu) and posts
// the values back to the test's server.

import * as mg from '../../ts/browser.js';
import { runWorkload } from './workload.js';

async function main(): Promise<unknown> {
  const js = await runWorkload(mg, 'js');
  const gpu = await navigator.gpu?.requestAdapter();
  const adapter = gpu ? [gpu.info?.vendor, gpu.info?.architecture, gpu.info?.description].filter(Boolean).join(' ') : 'none';
  await mg.initBackend('webgpu');
  const webgpu = await runWorkload(mg, 'webgpu');
  return { js, webgpu, adapter, registered: mg.registeredBackends() };
}

main().then(
  (result) => fetch('/result', { method: 'POST', body: JSON.stringify({ ok: true, result }) }),
  (e: unknown) => fetch('/result', { method: 'POST', body: JSON.stringify({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) }) }),
);
