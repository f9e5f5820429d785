// The page of the real-browser test: metagrad's browser entry, bundled by esbuild for the
// browser with no shims, runs the workload on js and on WebGPU (navigator.gpu) and posts
// the values back to the test's server, with the adapter WebGPU ran on.
//
// `?adapter=compat` asks navigator.gpu for a compatibility-mode adapter. In headless Debian
// Chromium that is the only way onto Mesa's lavapipe: Chromium refuses Dawn's Vulkan adapter
// on lavapipe (it lacks the external-semaphore support Chromium requires of every adapter
// but SwiftShader) and falls back to SwiftShader, while its compatibility-mode adapter runs
// Dawn's OpenGL ES backend on ANGLE, and ANGLE on Vulkan on lavapipe (docs/backends.md).
// The default (`?adapter=core`) takes what a plain requestAdapter() gives: SwiftShader there.

import * as mg from '../../ts/browser.js';
import { runWorkload } from './workload.js';

export interface AdapterSeen {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  featureLevel: 'core' | 'compatibility';
  /** The adapter as the webgpu backend names it (it made its own request). */
  backendAdapter: string;
  /** requestAdapter() calls that returned null before one answered (headless Chromium's GPU process can still be starting). */
  nullAnswers: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<unknown> {
  const js = await runWorkload(mg, 'js');
  const gpu = navigator.gpu;
  if (!gpu) throw new Error('no navigator.gpu in this page');
  const featureLevel = new URLSearchParams(location.search).get('adapter') === 'compat' ? 'compatibility' : 'core';
  if (featureLevel === 'compatibility') {
    // metagrad's backend calls requestAdapter({ powerPreference }); a page that wants a
    // compatibility-mode adapter adds the feature level to that request.
    const request = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (o?: GPURequestAdapterOptions) => request({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  }
  let adapter: GPUAdapter | null = null, nullAnswers = 0;
  for (; nullAnswers < 40 && !(adapter = await gpu.requestAdapter()); nullAnswers++) await sleep(250);
  if (!adapter) throw new Error(`requestAdapter() answered null ${nullAnswers} times`);
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const seen: AdapterSeen = {
    vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
    isFallbackAdapter: i.isFallbackAdapter === true, featureLevel, nullAnswers, backendAdapter: '',
  };
  seen.backendAdapter = String((await mg.initBackend('webgpu') as { adapterName?: string }).adapterName);
  const webgpu = await runWorkload(mg, 'webgpu');
  return { js, webgpu, adapter: seen, registered: mg.registeredBackends() };
}

main().then(
  (result) => fetch('/result', { method: 'POST', body: JSON.stringify({ ok: true, result }) }),
  (e: unknown) => fetch('/result', { method: 'POST', body: JSON.stringify({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) }) }),
);
