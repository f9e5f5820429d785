// Registers the webgpu backend. Cheap: Dawn is loaded only when initBackend('webgpu') runs.

import { registerBackend } from '../registry.js';

registerBackend('webgpu', async () => {
  const { WebGpuBackend } = await import('./webgpu-backend.js');
  return WebGpuBackend.create();
});
