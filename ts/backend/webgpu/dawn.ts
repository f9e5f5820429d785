// WebGPU in Node: Dawn through the npm package `webgpu` (an optional peer dependency),
// loaded only when the webgpu backend starts. Imported by the Node entry only, so browser
// bundles never see the package or its native binary.

import { BackendError } from '../../core/errors.js';
import { setGpuProvider } from './device.js';

setGpuProvider(async () => {
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (err) {
    throw new BackendError(
      `webgpu: the npm package 'webgpu' (Dawn for Node) could not be loaded (${err instanceof Error ? err.message : String(err)}); ` +
        `install it with 'npm install webgpu' (metagrad lists it as an optional peer dependency)`,
    );
  }
  // The GPU* constants (GPUBufferUsage, ...) must be global for WebGPU code to run in Node.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return mod.create([]);
});
