// WGSL sources: the kernels/*.wgsl files, inlined into kernel-sources.ts at build time
// (kernels/build.mjs), then specialized by a tiny preprocessor:
// `//#if NAME` / `//#if !NAME` / `//#else` / `//#endif` lines and `{{KEY}}` substitutions.

import { BackendError } from '../../core/errors.js';
import { KERNEL_SOURCES } from './kernel-sources.js';

export const KERNEL_FILES = ['common', 'elementwise', 'reduce', 'softmax', 'gemm', 'gemm-direct', 'pool', 'indexing', 'philox', 'fill', 'im2col', 'col2im', 'linalg', 'channel', 'check-indices'] as const;
export type KernelFile = (typeof KERNEL_FILES)[number];

/** Every kernel file, inlined at build time (kernels/build.mjs): no file access or URL needed. */
export async function loadKernelSources(): Promise<Map<KernelFile, string>> {
  const out = new Map<KernelFile, string>();
  for (const f of KERNEL_FILES) {
    const src = KERNEL_SOURCES[f];
    if (src === undefined) throw new BackendError(`webgpu: kernel '${f}.wgsl' is missing from kernel-sources.ts (run node kernels/build.mjs)`);
    out.set(f, src);
  }
  return out;
}

/** Apply //#if blocks and {{KEY}} substitutions; an unknown key is a bug, so it throws. */
export function specialize(src: string, flags: Record<string, boolean>, subs: Record<string, string | number>): string {
  const out: string[] = [];
  const stack: { active: boolean; parent: boolean }[] = [];
  let active = true;
  for (const line of src.split('\n')) {
    const t = line.trim();
    if (t.startsWith('//#if ')) {
      const name = t.slice(6).trim();
      const neg = name.startsWith('!');
      const v = !!flags[neg ? name.slice(1) : name];
      stack.push({ active, parent: active });
      active = active && (neg ? !v : v);
      continue;
    }
    if (t === '//#else') {
      const top = stack[stack.length - 1];
      if (!top) throw new BackendError('webgpu: //#else without //#if in a kernel');
      active = top.parent && !active;
      continue;
    }
    if (t === '//#endif') {
      const top = stack.pop();
      if (!top) throw new BackendError('webgpu: //#endif without //#if in a kernel');
      active = top.active;
      continue;
    }
    if (active) out.push(line);
  }
  return out.join('\n').replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    const v = subs[k];
    if (v === undefined) throw new BackendError(`webgpu: kernel template key {{${k}}} has no value`);
    return String(v);
  });
}
