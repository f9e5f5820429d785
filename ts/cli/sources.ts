// What a run trains on: the model, the meta-learner, and task streams for meta-training,
// validation and meta-test (held-out classes for Omniglot: the Vinyals et al. split).

import { DataError } from '../core/errors.js';
import { type Model, conv4, sinusoidMLP } from '../nn/index.js';
import { SinusoidTasks, loadOmniglot, EpisodeSampler } from '../data/index.js';
import type { Rng } from '../ops/rng.js';
import type { ParamTree } from '../tensor/tree.js';
import { anil, fomaml, imaml, maml, mamlPlusPlus, metaSgd, pretrained, reptile, type MetaLearner, type MetaTask } from '../meta/index.js';
import type { TrainConfig } from './args.js';

export interface TaskSource {
  kind: 'regression' | 'classification';
  model: Model;
  describe: string;
  train(rng: Rng): MetaTask;
  val(rng: Rng): MetaTask;
  test(rng: Rng): MetaTask;
}

export async function taskSource(cfg: TrainConfig): Promise<TaskSource> {
  if (cfg.task === 'sinusoid') {
    const tasks = new SinusoidTasks();
    const draw = (q: number) => (rng: Rng) => tasks.sample(rng, cfg.shots, q);
    return {
      kind: 'regression',
      model: sinusoidMLP(),
      describe: `sinusoid regression, K=${cfg.shots} points`,
      train: draw(cfg.queries),
      // meta-test as in the MAML paper: more query points for a steadier MSE
      val: draw(100),
      test: draw(100),
    };
  }
  const data = await loadOmniglot({ root: cfg.data, imageSize: cfg.imageSize }).catch((e: Error) => {
    throw new DataError(`omniglot: ${e.message} (pass --data PATH to the Omniglot folder)`);
  });
  const opts = { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries };
  const train = new EpisodeSampler(data.characters('vinyals-train'), opts);
  const val = new EpisodeSampler(data.characters('vinyals-val'), opts);
  const test = new EpisodeSampler(data.characters('vinyals-test'), opts);
  const model = conv4({
    imageSize: cfg.imageSize, outputs: cfg.ways, hidden: cfg.hidden,
    batchNorm: cfg.algo === 'mamlpp' ? 'per-step' : 'transductive', maxSteps: Math.max(cfg.innerSteps, cfg.testSteps),
  });
  return {
    kind: 'classification',
    model,
    describe: `Omniglot ${cfg.ways}-way ${cfg.shots}-shot (Vinyals split: ${train.classes.size} train / ${val.classes.size} val / ${test.classes.size} test classes with rotations), Conv-4 ×${cfg.hidden}`,
    train: (rng) => train.episode(rng),
    val: (rng) => val.episode(rng),
    test: (rng) => test.episode(rng),
  };
}

/** The name of the final layer's subtree (ANIL adapts it). */
function headOf(cfg: TrainConfig): string {
  return cfg.task === 'sinusoid' ? 'layers.2' : 'head';
}

export function makeLearner(cfg: TrainConfig, model: Model, which: 'main' | 'baseline' = 'main'): MetaLearner<any> {
  const common = { innerSteps: cfg.innerSteps, innerLr: cfg.innerLr, testSteps: cfg.testSteps };
  if (which === 'baseline') return pretrained(model, common);
  switch (cfg.algo) {
    case 'maml':
      return maml(model, { ...common, firstOrder: cfg.firstOrder, checkpoint: cfg.checkpointSegment });
    case 'fomaml':
      return fomaml(model, common);
    case 'anil':
      return anil(model, { ...common, firstOrder: cfg.firstOrder, head: headOf(cfg) });
    case 'reptile':
      return reptile(model, common);
    case 'metasgd':
      return metaSgd(model, { innerSteps: cfg.innerSteps, initLr: cfg.innerLr, firstOrder: cfg.firstOrder });
    case 'mamlpp':
      return mamlPlusPlus(model, { innerSteps: cfg.innerSteps, innerLr: cfg.innerLr, annealIterations: Math.max(1, Math.round(cfg.iterations / 3)) });
    case 'imaml':
      return imaml(model, { innerSteps: Math.max(cfg.innerSteps, 1), innerLr: cfg.innerLr, lambda: cfg.lambda, cgSteps: cfg.cgSteps });
  }
}

export type { ParamTree };
