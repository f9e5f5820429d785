// The meta layer's public functions with their arguments checked (issue 14 item 11): a
// learner built from `undefined`, a task without a support set or a non-function sampler
// fails at the call with a ValueError naming the function and the argument, instead of a
// TypeError from deep inside the learner. The learner files keep their own checks of values
// (ways, steps, learning rates); what is checked here is the kind of each argument and the
// members the function reaches for at once. The public API (ts/api.ts) exports these
// versions in place of the ones in ./index.ts.

import { array, fn, instance, int, num, numbers, object, options, optional, str, validated, type Check } from '../core/args.js';
import { MetaError, ShapeError } from '../core/errors.js';
import { describe } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { Rng } from '../ops/rng.js';
import * as m from './index.js';

const tensor = instance(Tensor, 'a Tensor');
const tree: Check = (v, who, name) => {
  // a Tensor, an array or an object of them (the leaves are checked where the tree is walked)
  if (v === null || typeof v !== 'object') object({}, 'a parameter tree (a Tensor, or an array or object of them)')(v, who, name);
};
const model = object({ apply: fn }, 'a model with apply(params, x)');
const batch = object({ x: tensor, y: tensor }, 'a batch { x: Tensor, y: Tensor }');
const task = object({ support: batch, query: batch }, 'a task { support, query }');
const tasks = array(task, 'an array of tasks');
const optimizer = object({ init: fn, update: fn }, 'an optimizer with init() and update()');
const optimizee = object({ model, loss: fn }, 'an optimizee { model, loss }');
const learner = object({ init: fn, metaGrad: fn, scoreTask: fn }, 'a meta-learner with init(), metaGrad() and scoreTask()');
const entry = object({ name: str, options: object() }, 'a learner registry entry');
const ctx = object({ options: object(), task: object() }, 'a build context { options, task }');
const rng = instance(Rng, 'an Rng');
const labels: Check = (v, who, name) => {
  tensor(v, who, name);
  const y = v as Tensor;
  if (y.dtype !== 'int32' || y.rank !== 1) throw new ShapeError(`${who}: ${name} must be int32 labels [N], got ${y.dtype} [${y.shape.join(', ')}]`);
};
const rank3: Check = (v, who, name) => {
  tensor(v, who, name);
  if ((v as Tensor).rank !== 3) throw new ShapeError(`${who}: ${name} must be [batch, time, channels], got [${(v as Tensor).shape.join(', ')}]`);
};
const matrix: Check = (v, who, name) => {
  tensor(v, who, name);
  if ((v as Tensor).rank !== 2) throw new ShapeError(`${who}: ${name} must be a matrix [rows, columns], got [${(v as Tensor).shape.join(', ')}]`);
};
const required = (members: Record<string, Check> = {}) => object(members, 'an options object');

// learner factories: (model, options)
export const maml = validated('maml', m.maml, { model, opts: options() });
export const fomaml = validated('fomaml', m.fomaml, { model, opts: options() });
export const anil = validated('anil', m.anil, { model, opts: options() });
export const metaSgd = validated('metaSgd', m.metaSgd, { model, opts: options() });
export const mamlPlusPlus = validated('mamlPlusPlus', m.mamlPlusPlus, { model, opts: options() });
export const reptile = validated('reptile', m.reptile, { model, opts: options() });
export const imaml = validated('imaml', m.imaml, { model, opts: options() });
export const pretrained = validated('pretrained', m.pretrained, { model, opts: options() });
export const protonet = validated('protonet', m.protonet, { model, opts: options() });
export const matching = validated('matching', m.matching, { model, opts: options() });
export const r2d2 = validated('r2d2', m.r2d2, { model, opts: options() });
export const relationNet = validated('relationNet', m.relationNet, { model, opts: options() });
export const siamese = validated('siamese', m.siamese, { model, opts: options() });
export const gnn = validated('gnn', m.gnn, { model, opts: required() });
export const mann = validated('mann', m.mann, { opts: required() });
export const mannLearner = validated('mannLearner', m.mannLearner, { opts: required() });
export const hypernet = validated('hypernet', m.hypernet, { model, opts: required() });
export const metaNetworks = validated('metaNetworks', m.metaNetworks, { model, opts: required() });
export const snail = validated('snail', m.snail, { model, opts: required() });
export const metaLearnerLstm = validated('metaLearnerLstm', m.metaLearnerLstm, { model, opts: required() });
export const lstmOptimizer = validated('lstmOptimizer', m.lstmOptimizer, { optimizee, opts: options() });

// the pieces learners are made of
export const innerLoop = validated('innerLoop', m.innerLoop, { model, params: tree, support: batch, opts: required({ steps: int(0) }) });
export const scoreAdapted = validated('scoreAdapted', m.scoreAdapted, { model, learner: object({ adapt: fn }, 'a learner with adapt()'), meta: tree, task, opts: options({ loss: fn }) });
export const batchLoss = validated('batchLoss', m.batchLoss, { model, params: tree, batch, opts: options({ loss: fn }) });
export const defaultLoss = validated('defaultLoss', m.defaultLoss, { pred: tensor, target: tensor });
export const describeInnerLoop = validated('describeInnerLoop', m.describeInnerLoop, { options: object() });
export const meanOverTasks = validated('meanOverTasks', m.meanOverTasks, { who: str, meta: tree, tasks: array(), perTask: fn });
export const tapeTaskGrad = validated('tapeTaskGrad', <S extends ParamTree>(meta: S, metaLoss: (traced: S) => { loss: Tensor; accuracy?: Tensor }) =>
  m.tapeTaskGrad(meta, (traced: S) => {
    const r = metaLoss(traced);
    if (r === null || typeof r !== 'object' || !((r as { loss?: unknown }).loss instanceof Tensor)) throw new MetaError(`tapeTaskGrad: metaLoss must return { loss: Tensor, accuracy? }, got ${describe(r)}`);
    return r;
  }), { meta: tree, metaLoss: fn });
// task-batched inner loops (task-batch.ts)
export const taskBatchedGrad = validated('taskBatchedGrad', m.taskBatchedGrad, { who: str, model, meta: tree, tasks, chunk: num, lossFn: optional(fn), metaLoss: fn });
export const taskBatchedMetaGrad = validated('taskBatchedMetaGrad', m.taskBatchedMetaGrad, { who: str, model, meta: tree, tasks, o: required({ innerSteps: int(0) }), chunk: num });
export const stackTasks = validated('stackTasks', m.stackTasks, { who: str, tasks });
export const stackTree = validated('stackTree', m.stackTree, { tree, t: int(1) });
export const taskSumLoss = validated('taskSumLoss', m.taskSumLoss, { loss: optional(fn) });
export const multiStepWeights = validated('multiStepWeights', m.multiStepWeights, { steps: int(1), iteration: int(0), anneal: int(0) });
export const defaultSegment = validated('defaultSegment', m.defaultSegment, { steps: int(0) });
export const tcDepth = validated('tcDepth', m.tcDepth, { T: int(1) });
export const mamlTaskLoss = validated('mamlTaskLoss', m.mamlTaskLoss, { model, params: tree, task, opts: required() });
export const recomputedTaskGrad = validated('recomputedTaskGrad', m.recomputedTaskGrad, { model, params: tree, task, opts: required() });
/** @deprecated the earlier name of recomputedTaskGrad */
export const checkpointedTaskGrad = validated('checkpointedTaskGrad', m.checkpointedTaskGrad, { model, params: tree, task, opts: required() });
export const reptileSerial = validated('reptileSerial', m.reptileSerial, { model, params: tree, tasks, opts: required({ outerLr: num }) });
export const conjugateGradient = validated('conjugateGradient', m.conjugateGradient, { Av: fn, b: array(tensor, 'an array of tensors'), iters: int(0) });
export const evaluate = validated('evaluate', m.evaluate, { learner, meta: tree, sample: fn, opts: options() });
export const meanCi95 = validated('meanCi95', m.meanCi95, { xs: numbers });
export const metaStep = validated('metaStep', m.metaStep, { learner, meta: tree, optimizer, optState: tree, tasks, opts: options({ clipNorm: num }) });

// metric-based helpers
export const metricLearner = validated('metricLearner', m.metricLearner, { name: str, init: fn, episode: fn });
export const taskWays = validated('taskWays', m.taskWays, { task, who: str });
export const embedEpisode = validated('embedEpisode', m.embedEpisode, { embed: fn, task });
export const classSums = validated('classSums', m.classSums, { x: tensor, y: labels, ways: int(1) });
export const classMeans = validated('classMeans', m.classMeans, { x: tensor, y: labels, ways: int(1) });
export const pairwiseCosine = validated('pairwiseCosine', m.pairwiseCosine, { a: matrix, b: matrix });
export const accuracyOf = validated('accuracyOf', m.accuracyOf, { scores: matrix, y: labels });
export const featuresOf = validated('featuresOf', m.featuresOf, { who: str, params: tree });
export const ridgeWeights = validated('ridgeWeights', m.ridgeWeights, { x: tensor, y: tensor, lambda: tensor });
export const scoreLogits = validated('scoreLogits', m.scoreLogits, { who: str, logits: tensor, y: tensor, loss: optional(fn) });

// the learner registry
export const learnerOptions = validated('learnerOptions', m.learnerOptions, { entry });
export const entryModel = validated('entryModel', m.entryModel, { entry, ctx });
export const entryOptimizer = validated('entryOptimizer', m.entryOptimizer, { entry, ctx });

// learned optimizers and their optimizees
export const quadraticOptimizee = validated('quadraticOptimizee', m.quadraticOptimizee, { opts: options() });
export const mlpOptimizee = validated('mlpOptimizee', m.mlpOptimizee, { opts: required() });
const phi = object({ lstm: array(), out: object() }, 'LSTM-optimizer parameters { lstm, out }');
export const initLstmOptimizer = validated('initLstmOptimizer', m.initLstmOptimizer, { rng, config: options(), init: options() });
export const preprocessGradient = validated('preprocessGradient', m.preprocessGradient, { g: tensor, p: optional(num) });
export const lstmOptimizerStep = validated('lstmOptimizerStep', m.lstmOptimizerStep, { phi, g: tensor, state: array(), config: options() });
export const lstmOptimizerAsOptimizer = validated('lstmOptimizerAsOptimizer', m.lstmOptimizerAsOptimizer, { phi, config: options() });
const trajectory = object({ theta: array(tensor, 'an array of tensors'), state: array(), t: int(0) }, 'a trajectory { theta, state, t }');
export const unrollSegment = validated('unrollSegment', m.unrollSegment, { phi, optimizee, like: tree, task, start: trajectory, opts: required({ steps: int(1) }) });
export const runOptimizer = validated('runOptimizer', m.runOptimizer, { optimizer, optimizee, theta0: tree, task, steps: int(0) });
export const trainLstmOptimizer = validated('trainLstmOptimizer', m.trainLstmOptimizer, {
  learner: object({ metaUpdate: fn, init: fn }, 'an LSTM-optimizer learner (lstmOptimizer())'), phi, outer: optimizer, outerState: tree, sample: fn,
  opts: required({ trajectories: int(1), rng: optional(rng), onSegment: optional(fn) }),
});

// model-based helpers
export const accuracyByInstance = validated('accuracyByInstance', m.accuracyByInstance, { correct: tensor, instance: instance(Int32Array, 'an Int32Array'), instances: int(0) });
export const denseBlock = validated('denseBlock', m.denseBlock, { p: tree, x: rank3, dilation: int(1) });
export const attentionBlock = validated('attentionBlock', m.attentionBlock, { p: object({ q: tree, k: tree, v: tree }, 'attention parameters { q, k, v }'), x: tensor, mask: tensor });
