// Forward values of every op that tfjs has, against @tensorflow/tfjs on its cpu backend.
import test from 'tape';
import * as tf from '@tensorflow/tfjs';
import * as mg from '../../ts/index.js';
import { drawInputs, makeInputs, opCases } from '../helpers/op-cases.js';

await tf.setBackend('cpu');

for (const c of opCases.filter((c) => c.tfjs)) {
  test(`tfjs parity: ${c.name}`, (t) => {
    const mine = mg.scope(() => Array.from(c.fn(...makeInputs(c, 31, 'float32', 'js')).dataSync()));
    const theirs = tf.tidy(() => {
      const xs = drawInputs(c, 31).map(({ spec, values }) => {
        if (spec.ints) return tf.tensor(values, spec.shape, 'int32');
        return tf.tensor(values, spec.shape, 'float32');
      });
      return Array.from(c.tfjs!(tf, ...xs).dataSync() as Float32Array);
    });
    t.equal(mine.length, theirs.length, `same size (${mine.length})`);
    let worst = 0, at = 0;
    theirs.forEach((v, i) => {
      const err = Math.abs(mine[i]! - v) / (1e-5 + 1e-4 * Math.abs(v));
      if (err > worst) { worst = err; at = i; }
    });
    t.ok(worst <= 1, `values match (worst at ${at}: ${mine[at]} vs ${theirs[at]})`);
    t.end();
  });
}
