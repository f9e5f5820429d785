// metagrad's browser entry (package.json's "browser" export condition): the whole library
// except what needs Node — file loaders (loadOmniglot, loadMiniImageNet, save/loadSafetensors),
// the native C++ backend and Dawn. Backends: js, and webgpu through navigator.gpu. Data and
// checkpoints come in as bytes: omniglotFromZips, decodeSafetensors, decodePng, decodeImage.

import './backend/js/register.js';
import './backend/webgpu/register.js';

export * from './api.js';
