// What the CLI prints: the result line's number and interval, and --help for a flag several
// task sources declare with their own meaning.
import test from 'tape';
import { fmtResult } from '../../ts/cli/train.js';
import { usage } from '../../ts/cli/args.js';
import '../../ts/meta/learners.js';
import '../../ts/data/tasks.js';
import type { EvaluateResult } from '../../ts/meta/evaluate.js';

const result = (metric: 'accuracy' | 'loss', mean: number, ci95: number, tasks: number): EvaluateResult => ({ metric, mean, ci95, tasks, meanLoss: mean, scores: [] });

test('fmtResult: percent with a 95% interval, MSE with three decimals, no "± NaN" from one task', (t) => {
  t.equal(fmtResult(result('accuracy', 0.97912, 0.00213, 600)), '97.91% ± 0.21%');
  t.equal(fmtResult(result('loss', 1.18812, 0.0981, 600)), '1.188 ± 0.098');
  t.equal(fmtResult(result('accuracy', 0.8, NaN, 1)), '80.00% (one task: no interval)');
  t.equal(fmtResult(result('loss', NaN, NaN, 600)), 'NaN ± NaN', 'a NaN over many tasks is shown as it is');
  t.end();
});

test('--help: a flag two task sources declare with different help shows each one\'s, and columns fit the longest name', (t) => {
  const help = usage();
  const data = help.split('\n').find((l) => l.trimStart().startsWith('--data'));
  t.ok(data && /omniglot.*: Omniglot folder/.test(data) && /mini-imagenet: mini-ImageNet folder/.test(data), `--data line: ${data}`);
  const rows = help.split('\n').filter((l) => /^ {2}(omniglot-sequences|sinusoid|maml) +(classification|regression|gradient-based)/.test(l));
  const columns = new Set(rows.map((l) => l.search(/(classification|regression|gradient-based)/)));
  t.equal(rows.length, 3, 'rows found');
  t.equal(columns.size, 1, 'names and kinds line up in one column');
  t.end();
});
