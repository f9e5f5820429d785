// Compiled compute pipelines, cached by their specialized WGSL source and entry point.
// Compiling is the slow part of WebGPU start-up, so each variant is built once per device.
// Layouts are explicit (binding 0: the params uniform, then read-only inputs, then
// read-write outputs) so a kernel variant that ignores a binding still binds. The params
// binding has a dynamic offset, so a bind group depends only on the storage buffers and
// can be cached (see queue.ts).
/// <reference types="@webgpu/types" />

export class PipelineCache {
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, GPUBindGroupLayout>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  layout(reads: number, writes: number): GPUBindGroupLayout {
    const key = `${reads},${writes}`;
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } }];
      for (let i = 0; i < reads + writes; i++) {
        entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: i < reads ? 'read-only-storage' : 'storage' } });
      }
      l = this.device.createBindGroupLayout({ entries, label: `mg-layout-${key}` });
      this.layouts.set(key, l);
    }
    return l;
  }

  get(code: string, reads: number, writes: number, label: string): GPUComputePipeline {
    const key = `${reads},${writes}\n${code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code, label });
      p = this.device.createComputePipeline({
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(reads, writes)] }),
        compute: { module, entryPoint: 'main' },
        label,
      });
      this.pipelines.set(key, p);
    }
    return p;
  }
}
