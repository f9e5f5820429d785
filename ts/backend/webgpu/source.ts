// WGSL sources: the kernels/*.wgsl files, found relative to this module (dist/backend/webgpu/
// or build/ts/backend/webgpu/), read once at start-up, then specialized by a tiny preprocessor:
// `//#if NAME` / `//#if !NAME` / `//#else` / `//#endif` lines and `{{KEY}}` substitutions.

import { BackendError } from '../../errors.js';

export const KERNEL_FILES = ['common', 'elementwise', 'reduce', 'softmax', 'gemm', 'gemm-direct', 'pool', 'indexing', 'philox', 'fill', 'im2col', 'col2im', 'check-indices', 'linalg'] as const;
export type KernelFile = (typeof KERNEL_FILES)[number];

async function readText(url: URL): Promise<string> {
  if (url.protocol === 'file:') {
    const fs = await import('node:fs/promises');
    return fs.readFile(url, 'utf8');
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
  return res.text();
}

/** Load every kernel file; tries the dist/ and build/ layouts. */
export async function loadKernelSources(): Promise<Map<KernelFile, string>> {
  const candidates = ['../../../kernels/', '../../../../kernels/'].map((p) => new URL(p, import.meta.url));
  let lastErr: unknown;
  for (const dir of candidates) {
    try {
      const out = new Map<KernelFile, string>();
      for (const f of KERNEL_FILES) out.set(f, await readText(new URL(`${f}.wgsl`, dir)));
      return out;
    } catch (err) {
      lastErr = err;
    }
  }
  throw new BackendError(
    `webgpu: cannot find the WGSL kernels (looked in ${candidates.map((c) => c.href).join(' and ')}): ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`,
  );
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
