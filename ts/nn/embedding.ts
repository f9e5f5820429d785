// Embedding: a lookup table [V, D]; int32 ids of any shape -> [..., D].

import { DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { gather } from '../ops/indexing.js';
import { checkIndices } from '../ops/util.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkPositiveInt } from './init.js';
import type { InitOptions } from './model.js';

export type EmbeddingParams = { table: Tensor };

export const embedding = {
  /** N(0, 1) entries, as PyTorch's nn.Embedding. */
  init(rng: Rng, vocabSize: number, dim: number, opts: InitOptions = {}): EmbeddingParams {
    checkPositiveInt(vocabSize, 'vocabSize', 'embedding.init');
    checkPositiveInt(dim, 'dim', 'embedding.init');
    return { table: rng.normal([vocabSize, dim], 0, 1, { dtype: opts.dtype ?? 'float32', backend: opts.backend }) };
  },
  apply(params: EmbeddingParams, ids: Tensor): Tensor {
    if (ids.dtype !== 'int32') throw new DTypeError(`embedding.apply: ids must be int32, got ${ids.dtype} ${fmtShape(ids.shape)}`);
    if (params.table.rank !== 2) throw new ShapeError(`embedding.apply: table must be [V, D], got ${fmtShape(params.table.shape)}`);
    checkIndices('embedding.apply', ids, params.table.shape[0]!);
    return gather(params.table, ids, 0);
  },
};
