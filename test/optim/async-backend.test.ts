// nn/optim/data/io on a backend without synchronous reads (as WebGPU): a js backend with
// readSync removed. Nothing in a training step may need a synchronous read.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { JsBackend } from '../../ts/backend/js/js-backend.js';
import { conv4 } from '../../ts/nn/index.js';
import { adam, clipGradNorm, sgd } from '../../ts/optim/index.js';
import { decodeSafetensors, encodeSafetensors, loadTree } from '../../ts/io/index.js';
import { SinusoidTasks } from '../../ts/data/index.js';

class AsyncJs extends JsBackend {
  override readonly name: string = 'js-async';
  private indexError: string | null = null;
  override async read(s: Parameters<JsBackend['read']>[0]) {
    const e = this.indexError;
    this.indexError = null;
    if (e) throw new mg.IndexError(e);
    return JsBackend.prototype.readSync.call(this, s);
  }
  // the deferred index check a backend without synchronous reads provides (as WebGPU does)
  checkIndices(idx: mg.View, limit: number, message: string): void {
    if (Array.from(this.gatherView(idx)).some((v) => v < 0 || v >= limit)) this.indexError ??= message;
  }
}
const backend = new AsyncJs();
(backend as unknown as { readSync?: unknown }).readSync = undefined;

test('async backend: a Conv-4 training step, clipping, checkpoints, tasks', async (t) => {
  const rng = new mg.Rng(1);
  const model = conv4({ imageSize: 16, outputs: 2, hidden: 2, batchNorm: 'per-step', maxSteps: 2 });
  let params = model.init(rng, { backend });
  t.throws(() => params.head.w.dataSync(), mg.BackendError, 'no synchronous reads on this backend');
  const x = rng.normal([4, 1, 16, 16], 0, 1, { backend });
  const y = mg.tensor([0, 1, 0, 1], { dtype: 'int32', backend });
  for (const opt of [adam({ lr: 0.01 }), sgd({ lr: 0.1, momentum: 0.9 })]) {
    let state = opt.init(params);
    for (let i = 0; i < 2; i++) {
      const g = mg.grad((p: typeof params) => mg.crossEntropy(model.apply(p, x, { training: true, step: i }), y))(params);
      const c = clipGradNorm(g, 1);
      t.ok(Number.isNaN(c.norm), 'norm is NaN where it cannot be read synchronously');
      const r = opt.update(params, c.grads, state);
      params = r.params;
      state = r.state;
    }
    const bytes = await encodeSafetensors({ params, state });
    const { tensors } = decodeSafetensors(bytes, { backend: 'js' });
    t.equal(tensors['state.step']!.itemSync(), 2, 'two updates, state saved through async reads');
    // state loaded onto the async backend again: the loader remembers the step on the host
    const onAsync = decodeSafetensors(bytes, { backend }).tensors;
    const s2 = loadTree(opt.init(params), onAsync, 'state');
    const r3 = opt.update(params, params, s2);
    const step3 = decodeSafetensors(await encodeSafetensors({ s: (r3.state as { step: mg.Tensor }).step }), { backend: 'js' }).tensors.s!;
    t.equal(step3.itemSync(), 3, 'a loaded state resumes on an async backend');
    const fresh = mg.scalar(5, { dtype: 'int32', backend });
    t.throws(() => opt.update(params, params, { ...(s2 as object), step: fresh } as mg.ParamTree), mg.DataError, 'an unknown step on an async backend is a clear DataError');
  }
  const task = new SinusoidTasks().sample(rng, 3, 3, { backend });
  t.equal(task.support.x.backend.name, 'js-async', 'tasks on the requested backend');
  const loss = await mg.crossEntropy(model.apply(params, x, { training: true }), y).item();
  t.ok(Number.isFinite(loss), `finite loss after training (${loss.toFixed(3)})`);
});
