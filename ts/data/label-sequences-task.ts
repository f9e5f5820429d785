// The Omniglot label-sequence task source of the CLI (`metagrad train mann --task
// omniglot-sequences`), apart from LabelSequenceSampler (label-sequences.ts) because it reads
// the Omniglot files: label-sequences.ts is part of the browser-safe API (data/core.ts), this
// file is reached only from the Node entry's task list (tasks.ts).

import { DataError } from '../core/errors.js';
import type { Rng } from '../ops/rng.js';
import { reshape } from '../ops/shape-ops.js';
import { conv4 } from '../nn/conv4.js';
import { LabelSequenceSampler } from './label-sequences.js';
import { loadOmniglot } from './omniglot-files.js';
import type { TaskEntry } from './registry.js';
import type { Task } from './task.js';

/**
 * Omniglot label sequences as a task source (`metagrad train mann`): each task is ONE episode of
 * `ways` classes × `instances` drawings in presentation order, given as support = query = the
 * sequence (x [T, 1, S, S], y [T]); a learner that reads sequences (TaskInfo.sequences) scores
 * every step, its label shown one step late. Images are the 28-pixel Omniglot store resized to
 * `imageSize` (area filter; the paper: 20). Train / val / test: the Vinyals et al. classes.
 */
export const omniglotSequencesTask: TaskEntry = {
  name: 'omniglot-sequences',
  kind: 'classification',
  summary: 'Omniglot label sequences: N classes × M instances in random order, labels one step late (Santoro et al. 2016)',
  options: {
    data: { kind: 'str', default: undefined, help: 'Omniglot folder (default: METAGRAD_OMNIGLOT, then $METAGRAD_DATA/omniglot, then ~/.cache/metagrad/omniglot)' },
    instances: { kind: 'int', default: 10, min: 1, help: 'drawings of each class per sequence (the paper: 10)' },
  },
  async load(o) {
    const classes = o['ways'] as number, instances = o['instances'] as number, imageSize = o['imageSize'] as number, hidden = o['hidden'] as number;
    const data = await loadOmniglot({ root: o['data'] as string | undefined }).catch((e: Error) => {
      throw new DataError(`omniglot-sequences: ${e.message} (pass --data PATH to the Omniglot folder)`);
    });
    const opts = { classes, instances, imageSize };
    const make = (split: 'vinyals-train' | 'vinyals-val' | 'vinyals-test') => {
      const sampler = new LabelSequenceSampler(data.characters(split), opts);
      return (rng: Rng): Task & { ways: number } => {
        const s = sampler.sample(rng, 1);
        const T = sampler.length;
        const batch = { x: reshape(s.x, [T, 1, imageSize, imageSize]), y: reshape(s.y, [T]) };
        s.x.dispose();
        s.y.dispose();
        return { support: batch, query: batch, ways: classes };
      };
    };
    return {
      name: 'omniglot-sequences',
      kind: 'classification',
      ways: classes,
      sequences: true,
      inputShape: [1, imageSize, imageSize],
      backbone: (b = {}) => conv4({ imageSize, outputs: b.outputs ?? classes, hidden, batchNorm: b.batchNorm ?? 'transductive', maxSteps: b.maxSteps }),
      describe: `Omniglot label sequences, ${classes} classes × ${instances} instances of ${imageSize}×${imageSize} (Vinyals split)`,
      metric: 'accuracy over every step of a sequence',
      resultLabel: `${classes}-class × ${instances}-instance Omniglot sequence accuracy (all steps)`,
      train: make('vinyals-train'),
      val: make('vinyals-val'),
      test: make('vinyals-test'),
    };
  },
};
