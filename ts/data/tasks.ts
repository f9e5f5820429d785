// The built-in task sources of training runs: one import and one registration each.

import { registerTask } from './registry.js';
import { sinusoidTask } from './sinusoid.js';
import { omniglotTask } from './omniglot-files.js';
import { quadraticTask } from './quadratic.js';
import { omniglotSequencesTask } from './label-sequences-task.js';
import { miniImageNetTask } from './mini-imagenet.js';

registerTask(sinusoidTask);
registerTask(omniglotTask);
registerTask(quadraticTask);
registerTask(omniglotSequencesTask);
registerTask(miniImageNetTask);
