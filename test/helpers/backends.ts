// Which non-reference backends the parity suites run on. Native joins when its addon
// loads; webgpu when an adapter exists. With METAGRAD_REQUIRE_WEBGPU=1 (CI) a missing
// adapter is a failure, never a skip. METAGRAD_PARITY_BACKENDS=a,b overrides the list.

import * as mg from '../../ts/index.js';

export interface BackendProbe {
  name: string;
  available: boolean;
  why?: string;
  required: boolean;
}

export async function probeBackends(): Promise<BackendProbe[]> {
  const requested = process.env['METAGRAD_PARITY_BACKENDS']?.split(',').filter(Boolean);
  const names = requested ?? mg.registeredBackends().filter((n) => n !== 'js');
  const out: BackendProbe[] = [];
  for (const name of names) {
    const required = (name === 'webgpu' && process.env['METAGRAD_REQUIRE_WEBGPU'] === '1') || (requested?.includes(name) ?? false);
    try {
      await mg.initBackend(name);
      out.push({ name, available: true, required });
    } catch (e) {
      out.push({ name, available: false, why: e instanceof Error ? e.message : String(e), required });
    }
  }
  return out;
}
