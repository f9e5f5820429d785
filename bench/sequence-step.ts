// One Adam step of a sequence model (MANN, or the memoryless LSTM baseline) on a batch of
// label sequences, shared by the MANN benches: the loss differentiated by the tape, the
// update applied, the old parameters, optimizer state and batch freed.

import * as mg from '../ts/index.js';
import type { ParamTree, Tensor } from '../ts/index.js';

export interface SequenceNet {
  loss(p: ParamTree, x: Tensor, y: Tensor): { loss: Tensor };
}

/** The new parameters and optimizer state, and the step's loss (detached: dispose it). */
export function sequenceStep<P extends ParamTree, S extends ParamTree>(net: SequenceNet, opt: mg.Optimizer<S>, p: P, st: S, batch: { x: Tensor; y: Tensor }): { p: P; st: S; loss: Tensor } {
  const r = mg.scope(() => {
    const { tree, leaves } = mg.traceTree(p);
    const { loss } = net.loss(tree, batch.x, batch.y);
    return { u: opt.update(p, mg.treeUnflatten(p, mg.gradients(loss, leaves)), st), loss: mg.detach(loss) };
  });
  mg.disposeAll([p, st, batch.x, batch.y]);
  return { p: r.u.params, st: r.u.state, loss: r.loss };
}
