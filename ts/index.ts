// metagrad: meta-learning on a hand-written autodiff engine with higher-order derivatives.
// The Node entry: the browser-safe API (api.ts), the js, native and webgpu (Dawn) backends,
// and the loaders that read and write files.

import './backend/js/register.js';
import './backend/native/register.js';
import './backend/webgpu/dawn.js';
import './backend/webgpu/register.js';
// the built-in learners and task sources of training runs (learnerEntries(), taskEntries())
import './data/tasks.js';
import './meta/learners.js';

export * from './api.js';
export * from './data/files.js';
export { saveSafetensors, loadSafetensors } from './io/index.js';
