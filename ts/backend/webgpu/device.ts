// Adapter and device set-up: Dawn through the npm package `webgpu` in Node, navigator.gpu
// in a browser. We ask for the adapter's own limits (the defaults cap storage bindings at
// 128 MiB) and for shader-f16 when it exists, and turn "no adapter" into advice.
/// <reference types="@webgpu/types" />

import { BackendError } from '../../core/errors.js';

/** The device acquireDevice returns, with what must stay alive beside it and what the adapter offers (the dispatch state built on it is Ctx, context.ts). */
export interface AcquiredDevice {
  /** Held for the device's lifetime: if Dawn's instance is garbage collected, the device crashes. */
  readonly instance: GPU;
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly hasF16: boolean;
  readonly limits: GPUSupportedLimits;
  readonly hasTimestamps: boolean;
  /** A software adapter (lavapipe, SwiftShader, WARP): workgroup barriers are costly there. */
  readonly isCpu: boolean;
}

const HOW_TO_GET_ONE =
  'install a GPU driver with Vulkan, Metal or D3D12 support, or on Linux without a GPU the software ' +
  'Vulkan driver Mesa lavapipe (Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1)';

/** Where a GPU object comes from outside a browser (Node: dawn.ts installs Dawn's). */
let gpuProvider: (() => Promise<GPU>) | undefined;

/** Install the function that makes a GPU object where there is no navigator.gpu (the Node entry does, with Dawn). */
export function setGpuProvider(provider: (() => Promise<GPU>) | undefined): void {
  gpuProvider = provider;
}

/** The GPU object: navigator.gpu in a browser, else the installed provider (Dawn in Node). */
async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (gpuProvider) return gpuProvider();
  throw new BackendError(
    'webgpu: no navigator.gpu here (a browser without WebGPU, or WebGPU disabled) and no Dawn: in Node, import metagrad ' +
      "through its Node entry ('metagrad', not 'metagrad/browser') and install the npm package 'webgpu'",
  );
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupsPerDimension',
] as const;

export async function acquireDevice(opts: { powerPreference?: GPUPowerPreference } = {}): Promise<AcquiredDevice> {
  const gpu = await getGpu();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (err) {
    throw new BackendError(`webgpu: requesting an adapter failed (${err instanceof Error ? err.message : String(err)}); ${HOW_TO_GET_ONE}`);
  }
  if (!adapter) throw new BackendError(`webgpu: no GPU adapter found; ${HOW_TO_GET_ONE}`);
  const hasF16 = adapter.features.has('shader-f16');
  const hasTimestamps = adapter.features.has('timestamp-query');
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasF16) requiredFeatures.push('shader-f16');
  if (hasTimestamps) requiredFeatures.push('timestamp-query');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (err) {
    throw new BackendError(`webgpu: the adapter refused a device (${err instanceof Error ? err.message : String(err)})`);
  }
  const info = adapter.info;
  const adapterName = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(' ') || 'unknown adapter';
  const isCpu = /llvmpipe|lavapipe|swiftshader|warp|software/i.test(adapterName) || (info as { isFallbackAdapter?: boolean })?.isFallbackAdapter === true;
  return { instance: gpu, device, adapterName, isCpu, hasF16, limits: device.limits, hasTimestamps };
}
