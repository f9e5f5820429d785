// Activations composed from elementwise ops (their vjps come for free).

import { ValueError } from '../core/errors.js';
import { describe } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { abs, add, exp, expm1, greater, log1p, maximum, mul, neg, relu, where, sigmoid, tanh } from './elementwise.js';
import { checkFloat, checkTensor, opScope } from './util.js';

/** x for x > 0, alpha·x otherwise. */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  return opScope(() => {
    checkTensor(x, 'leakyRelu');
    checkFloat('leakyRelu', x);
    if (typeof alpha !== 'number') throw new ValueError(`leakyRelu: alpha must be a number, got ${describe(alpha)}`);
    return where(greater(x, 0), x, mul(x, alpha));
  });
}

/** x for x > 0, alpha·(exp(x) - 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return opScope(() => {
    checkTensor(x, 'elu');
    checkFloat('elu', x);
    if (typeof alpha !== 'number') throw new ValueError(`elu: alpha must be a number, got ${describe(alpha)}`);
    return where(greater(x, 0), x, mul(expm1(x), alpha));
  });
}

/** log(1 + exp(x)), computed without overflow as max(x, 0) + log1p(exp(-|x|)). */
export function softplus(x: Tensor): Tensor {
  return opScope(() => {
    checkTensor(x, 'softplus');
    checkFloat('softplus', x);
    return add(maximum(x, 0), log1p(exp(neg(abs(x)))));
  });
}

/** GELU, tanh approximation (as in BERT and GPT-2). */
export function gelu(x: Tensor): Tensor {
  return opScope(() => {
    checkTensor(x, 'gelu');
    checkFloat('gelu', x);
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  });
}

/** x · sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return opScope(() => {
    checkTensor(x, 'silu');
    return mul(x, sigmoid(x));
  });
}

export { relu };
