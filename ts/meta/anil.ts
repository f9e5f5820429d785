// ANIL (Raghu et al. 2020, "Almost No Inner Loop"): MAML whose inner loop adapts only the
// final linear layer (params.head); the feature extractor is still meta-learned through the
// outer loop. The meta-gradient stays exact (second order in the head).
//
// When the model exposes features(params, x) and the head is the top-level linear layer
// { w, b } (conv4, mlp-like models), the features of the support and query sets are
// computed once per task and the inner loop runs on the head alone — that is ANIL's speed-up.
// The body still gets its meta-gradient through those features. Otherwise the whole model
// is re-run at every inner step with only the head's leaves adapting (same result, slower).

import { linear } from '../ops/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { INNER_LOOP_OPTIONS, batchLoss, describeInnerLoop, detachTree, innerLoop, scoreAdapted } from './inner.js';
import { checkTask } from './task-checks.js';
import { MetaError } from '../core/errors.js';
import { maml, resolveMaml, type MamlOptions } from './maml.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import type { LearnerEntry } from './registry.js';
import type { GradientMetaLearner, MetaApplyOptions, MetaBatch, MetaModel } from './types.js';

export type AnilOptions = Omit<MamlOptions, 'adapt' | 'recompute' | 'checkpoint'> & {
  /** dotted path of the subtree that adapts (default: the model's `head`, else 'head') */
  head?: string;
  /** use the model's features() once per task when possible (default true) */
  reuseFeatures?: boolean;
};

type FeatureModel = MetaModel & { features?(params: ParamTree, x: Tensor, opts?: MetaApplyOptions): Tensor };
type Head = { w: Tensor; b?: Tensor };

/** The head as a model of features: linear(f, w, b). */
const headModel: MetaModel = { apply: (p, f) => linear(f, (p as Head).w, (p as Head).b) };

export function anil(model: FeatureModel, opts: AnilOptions = {}): GradientMetaLearner<ParamTree> {
  const head = opts.head ?? model.head ?? 'head';
  const name = opts.name ?? 'anil';
  const generic = maml(model, { ...opts, name, adapt: (n) => n === head || n.startsWith(`${head}.`) });
  const check = (meta: ParamTree) => {
    const names = treeFlatten(meta).names;
    if (!names.some((n) => n === head || n.startsWith(`${head}.`))) {
      throw new MetaError(`anil: the parameters need a '${head}' subtree (the final layer that adapts); got ${names.join(', ')}`);
    }
  };
  const headOf = (meta: ParamTree): Head | null => {
    const h = (meta as Record<string, ParamTree>)[head] as Head | undefined;
    return h && typeof h === 'object' && 'w' in h && h.w.rank === 2 && Object.keys(h).every((k) => k === 'w' || k === 'b') ? h : null;
  };
  const fastPath = (meta: ParamTree) => (opts.reuseFeatures ?? true) && typeof model.features === 'function' && headOf(meta) !== null;

  const { innerSteps, innerLr, testSteps } = resolveMaml(name, opts);
  const training = opts.training ?? true;
  const feats = (meta: ParamTree, b: MetaBatch): MetaBatch => ({ x: model.features!(meta, b.x, { training }), y: b.y });
  const adaptHead = (meta: ParamTree, support: MetaBatch, steps: number, createGraph: boolean) =>
    innerLoop(headModel, headOf(meta)!, support, { steps, lr: innerLr, createGraph, loss: opts.loss });

  const learner: GradientMetaLearner<ParamTree> = {
    ...generic,
    init: (params) => (check(params), params),
    metaGrad: (meta, tasks) => {
      check(meta);
      if (!fastPath(meta)) return generic.metaGrad(meta, tasks);
      return meanOverTasks(name, meta, tasks, (task) =>
        tapeTaskGrad(meta, (m) => {
          checkTask(name, task);
          const h = adaptHead(m, feats(m, task.support), innerSteps, !opts.firstOrder);
          return batchLoss(headModel, h, feats(m, task.query), { loss: opts.loss });
        }),
      );
    },
    adapt: (meta, support) => {
      check(meta);
      if (!fastPath(meta)) return generic.adapt(meta, support);
      return { ...(meta as Record<string, ParamTree>), [head]: detachTree(adaptHead(meta, feats(meta, support), testSteps, false)) };
    },
    scoreTask: (meta, task, o) => scoreAdapted(model, learner, meta, task, o),
  };
  return learner;
}

export const anilEntry: LearnerEntry = {
  name: 'anil',
  family: 'gradient-based',
  summary: "ANIL: MAML whose inner loop adapts only the model's head (Raghu et al. 2020)",
  tasks: ['sinusoid', 'omniglot'],
  options: { innerSteps: INNER_LOOP_OPTIONS.innerSteps, testSteps: INNER_LOOP_OPTIONS.testSteps, innerLr: INNER_LOOP_OPTIONS.innerLr, firstOrder: INNER_LOOP_OPTIONS.firstOrder },
  // the head that adapts is the one the model names (conv4: 'head', mlp: its last layer)
  build: (model, { options: o }) => anil(model, {
    innerSteps: o['innerSteps'] as number, innerLr: o['innerLr'] as number, testSteps: o['testSteps'] as number, firstOrder: o['firstOrder'] as boolean,
  }),
  checkpoint: 'meta: θ (body and head); opt: Adam moments and step',
  describe: describeInnerLoop,
};
