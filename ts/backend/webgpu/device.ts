// Adapter and device set-up: Dawn through the npm package `webgpu` in Node, navigator.gpu
// in a browser. We ask for the adapter's own limits (the defaults cap storage bindings at
// 128 MiB) and for shader-f16 when it exists, and turn "no adapter" into advice.
/// <reference types="@webgpu/types" />

import { BackendError } from '../../core/errors.js';

export interface GpuContext {
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

/** The GPU object: navigator.gpu in a browser, Dawn's `create([])` in Node (its globals installed). */
async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (err) {
    throw new BackendError(
      `webgpu: the npm package 'webgpu' (Dawn for Node) could not be loaded (${err instanceof Error ? err.message : String(err)}); ` +
        `install it with 'npm install webgpu'`,
    );
  }
  // The GPU* constants (GPUBufferUsage, ...) must be global for WebGPU code to run in Node.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return mod.create([]);
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupsPerDimension',
] as const;

export async function acquireDevice(opts: { powerPreference?: GPUPowerPreference } = {}): Promise<GpuContext> {
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
