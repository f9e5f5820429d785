// Every differentiable op: first and second derivatives against central finite
// differences in float64 on the reference backend.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { diffInputs, makeInputs, opCases } from '../helpers/op-cases.js';

for (const c of opCases) {
  const wrt = diffInputs(c);
  if (wrt.length === 0) continue;
  test(`gradcheck ${c.name}`, (t) => {
    mg.scope(() => {
      const xs = makeInputs(c, 11, 'float64', 'js');
      const r1 = mg.gradcheck(c.fn, xs, { wrt, raise: false });
      t.ok(r1.ok, `first order (${r1.checked} elements; worst ${fmt(r1.worst)})`);
      const r2 = mg.gradgradcheck(c.fn, xs, { wrt, raise: false });
      t.ok(r2.ok, `second order (${r2.checked} elements; worst ${fmt(r2.worst)})`);
    });
    t.end();
  });
}

function fmt(w: mg.GradcheckReport['worst']): string {
  return w ? `input ${w.input}[${w.index}] analytic ${w.analytic.toPrecision(8)} numeric ${w.numeric.toPrecision(8)}` : 'none';
}

test('gradcheck catches a wrong derivative and reports the worst element', (t) => {
  const x = mg.tensor([0.1, 0.7, -0.4], { dtype: 'float64' });
  t.ok(mg.gradcheck(mg.sin, [x], { raise: false }).ok, 'sin passes');
  // value sin(a), but a derivative of 0.5: the detach hides sin from the tape
  const bad = (a: mg.Tensor) => mg.add(mg.detach(mg.sin(a)), mg.mul(a, 0.5));
  const r2 = mg.gradcheck(bad, [x], { raise: false });
  t.notOk(r2.ok, 'a wrong derivative fails');
  t.ok(r2.worst && r2.worst.error > r2.worst.allowed && r2.worst.input === 0, 'the report names the worst element and its error');
  t.throws(() => mg.gradcheck(bad, [x]), /gradcheck failed: input 0 \[3\], flat index \d: analytic/);
  t.end();
});
