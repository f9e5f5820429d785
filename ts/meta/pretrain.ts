// The MAML paper's baseline: one model trained on all tasks jointly (no adaptation in the
// objective), then fine-tuned on a new task's support set with the same inner steps.
// Written as a MetaLearner so the same training loop and evaluate() serve both.

import { detach } from '../tensor/tape.js';
import type { ParamTree } from '../tensor/tree.js';
import { concat } from '../ops/shape-ops.js';
import { batchLoss, checkBatch, detachTree, innerLoop } from './inner.js';
import { resolveMaml, type MamlOptions } from './maml.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import type { MetaLearner, MetaModel } from './types.js';

export function pretrained(model: MetaModel, opts: Pick<MamlOptions, 'innerSteps' | 'innerLr' | 'loss' | 'training' | 'testSteps'> = {}): MetaLearner<ParamTree> {
  const { innerLr, testSteps } = resolveMaml('pretrained', opts);
  return {
    name: 'pretrained',
    init: (params) => params,
    modelParams: (meta) => meta,
    metaGrad: (meta, tasks) =>
      meanOverTasks('pretrained', meta, tasks, (task) => {
        checkBatch('pretrained', task.support, 'task.support');
        checkBatch('pretrained', task.query, 'task.query');
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
  };
}
