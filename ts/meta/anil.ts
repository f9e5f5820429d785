// ANIL (Raghu et al. 2020, "Almost No Inner Loop"): MAML whose inner loop adapts only the
// final linear layer (params.head); the feature extractor is still meta-learned through the
// outer loop. The meta-gradient stays exact (second order in the head).

import type { ParamTree } from '../tensor/tree.js';
import { MetaError } from './inner.js';
import { maml, type MamlOptions } from './maml.js';
import type { MetaLearner, MetaModel } from './types.js';

export type AnilOptions = Omit<MamlOptions, 'adapt'> & { /** the subtree that adapts (default 'head') */ head?: string };

export function anil(model: MetaModel, opts: AnilOptions = {}): MetaLearner<ParamTree> {
  const head = opts.head ?? 'head';
  const inner = maml(model, { ...opts, name: opts.name ?? 'anil', adapt: (n) => n === head || n.startsWith(`${head}.`) });
  const check = (meta: ParamTree) => {
    if (meta === null || typeof meta !== 'object' || !(head in (meta as Record<string, unknown>))) {
      throw new MetaError(`anil: the parameters need a '${head}' subtree (the final layer that adapts); got keys ${Object.keys(meta ?? {}).join(', ')}`);
    }
  };
  return {
    ...inner,
    init: (params) => (check(params), params),
    metaGrad: (meta, tasks) => (check(meta), inner.metaGrad(meta, tasks)),
  };
}
