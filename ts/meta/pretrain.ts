// The MAML paper's baseline: one model trained on all tasks jointly (no adaptation in the
// objective), then fine-tuned on a new task's support set with the same inner steps.
// Written as a MetaLearner so the same training loop and evaluate() serve both.

import { detach } from '../tensor/tape.js';
import type { ParamTree } from '../tensor/tree.js';
import { concat } from '../ops/shape-ops.js';
import { INNER_LOOP_OPTIONS, batchLoss, describeInnerLoop, detachTree, innerLoop, scoreAdapted } from './inner.js';
import { checkTask } from './task-checks.js';
import { resolveMaml, type MamlOptions } from './maml.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import type { LearnerEntry } from './registry.js';
import type { GradientMetaLearner, MetaModel } from './types.js';

export function pretrained(model: MetaModel, opts: Pick<MamlOptions, 'innerSteps' | 'innerLr' | 'loss' | 'training' | 'testSteps'> = {}): GradientMetaLearner<ParamTree> {
  const { innerLr, testSteps } = resolveMaml('pretrained', opts);
  const learner: GradientMetaLearner<ParamTree> = {
    name: 'pretrained',
    init: (params) => params,
    modelParams: (meta) => meta,
    metaGrad: (meta, tasks) =>
      meanOverTasks('pretrained', meta, tasks, (task) => {
        checkTask('pretrained', task);
        const all = { x: concat([task.support.x, task.query.x]), y: concat([task.support.y, task.query.y]) };
        const r = tapeTaskGrad(meta, (p) => batchLoss(model, p, all, opts));
        // report the loss after fine-tuning on the support set, comparable with MAML's
        const fast = detachTree(innerLoop(model, meta, task.support, { steps: testSteps, lr: innerLr, createGraph: false, loss: opts.loss, training: opts.training }));
        const post = batchLoss(model, fast, task.query, opts);
        r.loss.dispose();
        return { ...r, loss: detach(post.loss), accuracy: post.accuracy };
      }),
    adapt: (meta, support) =>
      detachTree(innerLoop(model, meta, support, { steps: testSteps, lr: innerLr, createGraph: false, loss: opts.loss, training: opts.training })),
    scoreTask: (meta, task, o) => scoreAdapted(model, learner, meta, task, o),
  };
  return learner;
}

export const pretrainedEntry: LearnerEntry = {
  name: 'pretrained',
  family: 'gradient-based',
  summary: "the MAML paper's baseline: one model trained on all tasks jointly, fine-tuned with the same inner steps",
  tasks: ['sinusoid', 'omniglot'],
  options: { innerSteps: INNER_LOOP_OPTIONS.innerSteps, testSteps: INNER_LOOP_OPTIONS.testSteps, innerLr: INNER_LOOP_OPTIONS.innerLr },
  build: (model, { options: o }) => pretrained(model, { innerSteps: o['innerSteps'] as number, innerLr: o['innerLr'] as number, testSteps: o['testSteps'] as number }),
  checkpoint: 'meta: θ (trained jointly); opt: Adam moments and step',
  describe: describeInnerLoop,
};
