// Bad arguments to the public API raise MetagradError subclasses that name the function the
// user called, never a plain TypeError from deep inside (issue 14, item 11).
import test from 'tape';
import * as mg from '../ts/index.js';

const names = (re: RegExp) => (e: unknown) => e instanceof mg.MetagradError && re.test((e as Error).message);

test('public API: keep() takes trees, as scope() returns them', (t) => {
  let outside: { a: mg.Tensor; b: mg.Tensor[] } | null = null;
  mg.scope(() => {
    const tree = { a: mg.tensor([1]), b: [mg.tensor([2]), mg.tensor([3])] };
    outside = mg.keep(tree);
    mg.tensor([4]);
  });
  const kept = outside as unknown as { a: mg.Tensor; b: mg.Tensor[] };
  t.deepEqual([kept.a.dataSync()[0], kept.b[1]!.dataSync()[0]], [1, 3], 'every leaf of the kept tree survives the scope');
  t.throws(() => mg.keep(3 as unknown as mg.Tensor), names(/keep: expected a Tensor or a tree of tensors, got 3/), 'keep(3)');
  const dead = mg.tensor([1]);
  dead.dispose();
  t.throws(() => mg.keep({ dead }), mg.DisposedError, 'a disposed leaf');
  t.end();
});

test('public API: errors name the op the user called, not an internal one', (t) => {
  const x = mg.zeros([3, 2]);
  t.throws(() => mg.gather(x, mg.zeros([2])), names(/^gather: indices must be int32/), 'gather');
  t.throws(() => mg.gather(x, mg.tensor([0, 5], { dtype: 'int32' })), (e: unknown) => e instanceof mg.IndexError && /^gather: index 5/.test((e as Error).message), 'gather out of range is an IndexError');
  t.throws(() => mg.crossEntropy(mg.zeros([2, 3]), mg.tensor([0, 3], { dtype: 'int32' })), names(/^crossEntropy: index 3/), 'crossEntropy labels');
  const table = { table: mg.zeros([4, 2]) };
  t.throws(() => mg.embedding.apply(table, mg.tensor([4], { dtype: 'int32' })), names(/^embedding\.apply: index 4/), 'embedding ids');
  t.throws(() => mg.maxPool2d(mg.zeros([1, 1, 4, 4]), { kernelSize: 0 }), names(/^maxPool2d: kernelSize/), 'maxPool2d');
  t.throws(() => mg.avgPool2d(mg.zeros([1, 1, 4, 4]), { kernelSize: [2, -1] as [number, number] }), names(/^avgPool2d: kernelSize/), 'avgPool2d');
  t.throws(() => mg.zeros([-1]), names(/^zeros: shape/), 'zeros');
  t.throws(() => mg.ones('a' as unknown as number[]), names(/^ones: shape must be an array/), 'ones');
  t.throws(() => mg.zerosLike(3 as unknown as mg.Tensor), names(/^zerosLike: input must be a Tensor/), 'zerosLike');
  // ops built on another op or kernel name themselves (equal runs the 'eq' kernel, stopGradient is detach)
  t.throws(() => mg.equal(x, 'a' as never), names(/^equal: input must be a Tensor/), 'equal, not eq');
  t.throws(() => mg.greaterEqual(x, mg.zeros([3], { dtype: 'int32' })), names(/^greaterEqual: dtypes differ/), 'greaterEqual, not ge');
  t.throws(() => mg.stopGradient(3 as never), names(/^stopGradient: input must be a Tensor/), 'stopGradient, not detach');
  t.throws(() => mg.detach(3 as never), names(/^detach: input must be a Tensor/), 'detach itself');
  t.throws(() => mg.batchNormTrain(mg.zeros([3]), mg.ones([1]), mg.zeros([1])), names(/^batchNormTrain: input \[3\] must be \[N, C, \.\.\.\]/), 'batchNormTrain, not batchNorm');
  t.throws(() => mg.batchNormInference(3 as never, x, x, x, x), names(/^batchNormInference: input must be a Tensor/), 'batchNormInference');
  t.throws(() => mg.clamp(x, 'a' as never, 1), names(/^clamp: lo and hi must be numbers/), 'clamp, not minimum');
  t.throws(() => mg.elu(x, x as never), names(/^elu: alpha must be a number/), 'elu, not mul');
  t.throws(() => mg.scalar('a' as never), names(/^scalar: data must be a number/), 'scalar, not tensor');
  t.throws(() => mg.maxPool(mg.zeros([3])), names(/^maxPool: input must be \[N, C, H, W\]/), "nn's maxPool, not maxPool2d");
  t.throws(() => mg.treeLeaves({ a: 3 } as never), names(/^treeLeaves: leaf at 'a' is 3, not a Tensor/), 'treeLeaves, not treeFlatten');
  t.throws(() => mg.detachTree([null] as never), names(/^detachTree: leaf at '0' is null/), 'detachTree');
  t.throws(() => mg.pairwiseCosine(mg.zeros([3]), x), names(/^pairwiseCosine: a must be a matrix/), 'pairwiseCosine, not transpose');
  t.throws(() => mg.accuracyOf(mg.zeros([2, 2]), mg.zeros([2])), names(/^accuracyOf: y must be int32 labels/), 'accuracyOf, not eq');
  t.throws(() => mg.mannLearner({ inputSize: 0 } as never), names(/^mannLearner: inputSize must be a positive integer/), 'mannLearner, not mann');
  // helpers that returned NaN or garbage for bad numbers
  t.throws(() => mg.tcDepth(NaN), names(/^tcDepth: T must be an integer >= 1, got NaN/), 'tcDepth(NaN)');
  t.throws(() => mg.defaultSegment('x' as never), names(/^defaultSegment: steps must be an integer >= 0/), "defaultSegment('x')");
  t.throws(() => mg.multiStepWeights(0, 0, 10), names(/^multiStepWeights: steps must be an integer >= 1, got 0/), 'multiStepWeights(0, ...)');
  t.throws(() => mg.metricLearner('m', undefined as never, () => ({}) as never), names(/^metricLearner: init must be a function/), 'metricLearner without init');
  t.throws(() => mg.areaWeights(0, 2), names(/^areaWeights: n must be an integer >= 1, got 0/), 'areaWeights(0, 2)');
  t.throws(() => mg.resizeArea(new Float64Array(3), 2, 1), names(/^resizeArea: src has 3 values, a 2×2 image has 4/), 'resizeArea of a short image');
  t.throws(() => mg.resizeToPlanar(new Uint8Array(3), 2, 2, 1, 1, 1), names(/^resizeToPlanar: data has 3 bytes/), 'resizeToPlanar of short data');
  t.deepEqual(Array.from(mg.resizeArea(Float64Array.from([1, 2, 3, 4]), 2, 1)), [2.5], 'resizeArea still averages');
  t.end();
});

test('public API: data and io entry points', async (t) => {
  t.throws(() => new mg.EpisodeSampler(undefined as unknown as mg.ClassSource, { ways: 5, shots: 1, queries: 1 }), names(/EpisodeSampler: classes must be a class source/), 'EpisodeSampler(undefined)');
  t.throws(() => mg.decodeSafetensors('x' as unknown as Uint8Array), mg.DataError, 'decodeSafetensors of a string');
  t.throws(() => mg.loadTree({ w: mg.zeros([1]) }, { constructor: 3 } as unknown as Record<string, mg.Tensor>), names(/loadTree: missing 1 tensor\(s\): w/), "loadTree does not read a record's prototype");
  t.throws(() => mg.loadTree({ w: 3 } as never, {}), names(/^loadTree: leaf at 'w' is 3/), 'loadTree, not treeFlatten');
  t.throws(() => mg.decodeSafetensors(new Uint8Array(3)), names(/^decodeSafetensors: safetensors: file is 3 bytes/), 'decodeSafetensors, not loadSafetensors');
  t.throws(() => mg.parseSafetensorsHeader(new Uint8Array(3)), names(/^parseSafetensorsHeader: safetensors: file is 3 bytes/), 'parseSafetensorsHeader');
  await mg.encodeSafetensors({ a: 3 } as never).then(() => t.fail('encoded a number'), (e: unknown) => t.ok(names(/^encodeSafetensors: leaf at 'a' is 3/)(e), 'encodeSafetensors, not saveSafetensors: treeFlatten'));
  // registries
  t.throws(() => mg.learnerEntry('mamal'), names(/^learnerEntry: unknown learner 'mamal'; valid: maml/), 'learnerEntry');
  t.throws(() => mg.taskEntry('mnist'), names(/^taskEntry: unknown task 'mnist'; valid: sinusoid/), 'taskEntry');
  t.throws(() => mg.getBackend('cuda'), (e: unknown) => e instanceof mg.BackendError && /^getBackend: unknown backend 'cuda'; registered: js/.test((e as Error).message), 'getBackend');
  t.throws(() => mg.withBackend('cuda', () => 1), names(/^withBackend: unknown backend 'cuda'/), 'withBackend, not getBackend');
  t.throws(() => mg.tensor([1], { backend: 'cuda' }), names(/^tensor: unknown backend 'cuda'/), "tensor's backend option");
  t.throws(() => mg.registerBackend('fake', 3 as never), names(/^registerBackend: create must be a function/), 'registerBackend checks create');
  t.throws(() => mg.registerBackend(mg.tensor([1]) as never, () => mg.getBackend('js')), names(/^registerBackend: name must be a non-empty string/), 'registerBackend checks the name');
  t.notOk(mg.registeredBackends().includes('fake'), 'a refused registration registers nothing');
  t.end();
});

// Every exported function, called with a spread of bad arguments: it may succeed or throw a
// MetagradError, nothing else, and every error names the function the user called (issue 14
// item 11: equal once said 'eq:', stopGradient 'detach:', treeLeaves 'treeFlatten:').
// NOT_YET lists functions whose arguments are not validated yet (empty since the meta, data,
// autodiff and registry entry points check theirs).
const NOT_YET: readonly string[] = [];
// The exceptions: helpers for writing ops and learners that take the caller's name as an
// argument (the index given here) and name that caller, not themselves, in what they throw:
// a string there must start the message; anything else there must be refused naming the helper.
const CALLER_NAMED: Readonly<Record<string, number>> = {
  broadcastShapes: 0, channelDims: 1, checkChannelVector: 0, checkCreateOptions: 1, clipByGlobalNorm: 2, conv2dGeometry: 0, featuresOf: 0,
  meanOverTasks: 0, resolveBackend: 1, resolveOptions: 0, scoreLogits: 0, spatialPair: 3, stackTasks: 0, taskBatchedGrad: 0, taskBatchedMetaGrad: 0,
  taskChunk: 0, taskWays: 1, treeFlatten: 2,
};
// The exports that take any of the bad arguments without an error, by design: no arguments,
// a question answered for any name (backendAvailable: false, backendFailure: undefined),
// removing what is not there, disposeAll skipping non-tensors, fmtShape for error messages.
// Any other export that accepts all of them silently is missing its checks (tcDepth(NaN) was NaN).
const ACCEPTS_ANYTHING = [
  'backendAvailable', 'backendFailure', 'currentBackend', 'disposeAll', 'fmtShape', 'isGradEnabled', 'learnerEntries', 'liveTensorCount',
  'registeredBackends', 'taskEntries', 'unregisterLearner', 'unregisterTask',
];
// with side effects on the process or the file system, or test-only helpers
const SKIP = new Set(['initBackend', 'shutdownBackends', 'setBackend', 'loadOmniglot', 'loadSafetensors', 'saveSafetensors', 'philoxBlockForTests']);

test('public API: no plain TypeError or RangeError escapes any exported function, and every error names it', async (t) => {
  const bad: unknown[] = [undefined, null, 3, 'x', {}, [1, 'a'], () => 1, NaN];
  const leaks: string[] = [], misnamed: string[] = [];
  const threw = new Set<string>(), tried: string[] = [];
  let calls = 0;
  for (const [name, f] of Object.entries(mg)) {
    if (typeof f !== 'function' || SKIP.has(name) || NOT_YET.includes(name)) continue;
    const isClass = /^[A-Z]/.test(name);
    if (isClass && name !== 'EpisodeSampler') continue;
    tried.push(name);
    for (const b of bad) {
      // a fresh tensor for every call: a function may dispose what it is given (disposeAll)
      const x = mg.tensor([1, 2, 3]);
      for (const args of [[b], [x, b], [b, x], [x, x, b]]) {
        calls++;
        try {
          const r = isClass ? new (f as new (...a: unknown[]) => unknown)(...args) : (f as (...a: unknown[]) => unknown)(...args);
          if (r instanceof Promise) await r;
        } catch (e) {
          const shown = `${name}(${args.map((a) => (a instanceof mg.Tensor ? 'Tensor' : typeof a === 'function' ? 'fn' : JSON.stringify(a) ?? 'undefined')).join(', ')})`;
          if (!(e instanceof mg.MetagradError)) {
            leaks.push(`${shown}: ${String(e).slice(0, 100)}`);
            continue;
          }
          threw.add(name);
          const caller = name in CALLER_NAMED ? args[CALLER_NAMED[name]!] : undefined;
          const ok = typeof caller === 'string' ? e.message.startsWith(`${caller}: `) || e.message.startsWith(`${name}: `) : e.message.startsWith(`${name}: `) || e.message.startsWith(`${name}.`);
          if (!ok) misnamed.push(`${shown}: ${e.message.slice(0, 100)}`);
        }
      }
    }
  }
  t.deepEqual([...new Set(leaks.map((l) => l.split('(')[0]))], [], `${calls} calls of ${Object.keys(mg).length} exports; ${leaks.length} leaked a non-MetagradError`);
  t.deepEqual(misnamed, [], `every error of the ${threw.size} exports that threw starts with the name of the function called (or, for the ${Object.keys(CALLER_NAMED).length} caller-named helpers, the caller given)`);
  t.deepEqual(tried.filter((n) => !threw.has(n)), ACCEPTS_ANYTHING, `${threw.size} exports refused some of the bad arguments; the ${ACCEPTS_ANYTHING.length} others accept anything by design`);
  t.deepEqual(NOT_YET.filter((n) => !(n in mg)), [], 'NOT_YET names only exports');
  t.deepEqual(Object.keys(CALLER_NAMED).filter((n) => !(n in mg)), [], 'CALLER_NAMED names only exports');
  t.end();
});

const valueError = (re: RegExp) => (e: unknown) => e instanceof mg.ValueError && re.test((e as Error).message);

test('public API: meta, data and autodiff entry points name the function and the argument', async (t) => {
  const model = mg.sinusoidMLP();
  const x = mg.tensor([1, 2, 3]);
  t.throws(() => mg.maml(undefined as never), valueError(/^maml: model must be a model with apply\(params, x\), got undefined/), 'maml(undefined)');
  t.throws(() => mg.fomaml(model, null as never), valueError(/^fomaml: opts must be an options object, got null/), 'fomaml(model, null)');
  t.throws(() => mg.snail(model, undefined as never), valueError(/^snail: opts must be an options object/), 'snail without its required options');
  t.throws(() => mg.innerLoop(model, {}, { x } as never, { steps: 1, lr: 0.1, createGraph: false }), valueError(/^innerLoop: support\.y must be a Tensor, got undefined/), 'innerLoop: a batch without y');
  t.throws(() => mg.metaStep(mg.maml(model), {}, mg.adam({ lr: 0.1 }), {}, [{ support: { x, y: x } }] as never), valueError(/^metaStep: tasks\[0\]\.query must be a batch/), 'metaStep: a task without a query set');
  t.throws(() => mg.meanCi95([1, 'a'] as never), valueError(/^meanCi95: xs must be an array of numbers/), 'meanCi95');
  t.throws(() => mg.learnerOptions(3 as never), valueError(/^learnerOptions: entry must be a learner registry entry, got 3/), 'learnerOptions(3)');
  // an async entry point reports a bad argument as a rejected promise
  const p = mg.evaluate(mg.maml(model), {}, 3 as never);
  t.ok(p instanceof Promise, 'evaluate returns a promise even for bad arguments');
  await p.then(() => t.fail('evaluate with a number as sampler resolved'), (e: unknown) => t.ok(valueError(/^evaluate: sample must be a function, got 3/)(e), 'evaluate rejects: sample must be a function'));
  t.throws(() => mg.expandVinyalsSplit('dev' as never), valueError(/^expandVinyalsSplit: split must be one of 'train', 'val', 'trainval', 'test', got "dev"/), 'expandVinyalsSplit');
  t.throws(() => mg.decodeOmniglotCache('x' as never, 'k', 28), valueError(/^decodeOmniglotCache: buf must be a Uint8Array/), 'decodeOmniglotCache of a string');
  t.throws(() => mg.omniglotFromZips({ 'images_background.zip': 3 } as never), valueError(/^omniglotFromZips: zips\['images_background\.zip'\] must be zip bytes/), 'omniglotFromZips of a number');
  t.throws(() => mg.rmsprop(undefined as never), valueError(/^rmsprop: options must be an object/), 'rmsprop()');
  t.throws(() => mg.flagOf(3 as never), valueError(/^flagOf: key must be a string/), 'flagOf(3)');
  // autodiff: checked when the transform is made, and errors name the transform called
  t.throws(() => mg.grad(3 as never), valueError(/^grad: f must be a function, got 3/), 'grad(3)');
  t.throws(() => mg.valueAndGrad((a: mg.Tensor) => mg.sum(a), -1 as never), valueError(/^valueAndGrad: argnums must be an integer >= 0 or an array of them, got -1/), 'valueAndGrad(f, -1)');
  t.throws(() => mg.grad((a: mg.Tensor) => mg.sum(a))(3 as never), (e: unknown) => e instanceof mg.MetagradError && /^grad: argument 0 must be a Tensor or a tree of tensors/.test((e as Error).message), 'grad(f)(3)');
  t.throws(() => mg.valueAndGrad((a: mg.Tensor) => a)(x), (e: unknown) => e instanceof mg.GradError && /^valueAndGrad: f must return a scalar/.test((e as Error).message), 'valueAndGrad of a non-scalar names valueAndGrad');
  t.throws(() => mg.hessian((a: mg.Tensor) => a, x), (e: unknown) => e instanceof mg.GradError && /^hessian: f must return a scalar/.test((e as Error).message), 'hessian of a non-scalar names hessian, not grad');
  t.throws(() => mg.hvp((a: mg.Tensor) => mg.sum(a), x, 3 as never), valueError(/^hvp: v must be a Tensor, got 3/), 'hvp(f, x, 3)');
  t.throws(() => mg.jvp((a: mg.Tensor) => a, [x], [3] as never), valueError(/^jvp: tangents\[0\] must be a Tensor, got 3/), 'jvp with a number tangent');
  t.throws(() => mg.vjp((a: mg.Tensor) => a, 3 as never), valueError(/^vjp: primals\[0\] must be a Tensor, got 3/), 'vjp(f, 3)');
  // valid calls still work
  t.equal((mg.hessian((a: mg.Tensor) => mg.sum(mg.mul(a, a)), mg.tensor([1, 2])).dataSync() as Float32Array)[0], 2, 'hessian of sum(x²) starts with 2');
  t.end();
});
