// Registers the native backend. The addon is loaded lazily, the first time 'native' is
// asked for (the default order is native, then js). If it is missing or fails to load,
// the registry records why (backendFailure('native')), metagrad runs on js, and we say
// so once on stderr, unless the user chose a backend with METAGRAD_BACKEND.

import { registerBackend } from '../registry.js';
import { loadAddon } from './addon.js';
import { NativeBackend } from './native-backend.js';

let warned = false;

registerBackend('native', () => {
  try {
    return new NativeBackend(loadAddon());
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const env = typeof process !== 'undefined' ? process.env : {};
    if (!warned && !env['METAGRAD_BACKEND'] && !env['METAGRAD_QUIET']) {
      warned = true;
      console.warn(`metagrad: native backend unavailable, using js: ${why}`);
    }
    throw err;
  }
});
