// The built-in task sources of training runs: one import and one registration each.

import { registerTask } from './registry.js';
import { sinusoidTask } from './sinusoid.js';
import { omniglotTask } from './omniglot-files.js';

registerTask(sinusoidTask);
registerTask(omniglotTask);
