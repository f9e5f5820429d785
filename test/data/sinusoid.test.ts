import test from 'tape';
import * as mg from '../../ts/index.js';
import { SinusoidTasks } from '../../ts/data/index.js';

test('sinusoid tasks: ranges, shapes, determinism', (t) => {
  const tasks = new SinusoidTasks();
  const rng = new mg.Rng(1);
  for (let i = 0; i < 50; i++) {
    const task = tasks.sample(rng, 5, 10);
    t.ok(task.amplitude >= 0.1 && task.amplitude <= 5 && task.phase >= 0 && task.phase <= Math.PI, 'amplitude and phase in range');
    const x = task.query.x.dataSync(), y = task.query.y.dataSync();
    t.ok(Array.from(x).every((v, k) => v >= -5 && v <= 5 && Math.abs(y[k]! - task.amplitude * Math.sin(v - task.phase)) < 1e-5), 'y = A sin(x - φ), x in [-5, 5]');
    mg.disposeAll(task);
    if (i > 2) break;
  }
  const a = tasks.sample(new mg.Rng(9), 5, 10), b = tasks.sample(new mg.Rng(9), 5, 10);
  t.deepEqual([a.support.x.shape, a.support.y.shape, a.query.x.shape], [[5, 1], [5, 1], [10, 1]]);
  t.deepEqual(Array.from(a.support.y.dataSync()), Array.from(b.support.y.dataSync()), 'same seed, same task');
  const mb = tasks.metaBatch(new mg.Rng(2), 4, 5, 10);
  t.deepEqual([mb.support.x.shape, mb.query.y.shape, mb.amplitude.length], [[4, 5, 1], [4, 10, 1], 4]);
  t.throws(() => new SinusoidTasks({ amplitude: [5, 1] }), mg.ShapeError);
  t.end();
});
