// The always-on subset of the differential test (test/helpers/differential.ts; the long run is
// `npm run bench:differential`): random compositions of ops on every backend against PyTorch
// 1.13 in float64 — the value, the gradients and a Hessian-vector product of each program.
// Without PyTorch, gradients and HVPs are checked against central finite differences instead.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { probeBackends } from '../helpers/backends.js';
import { compareDerivs, describeProgram, finiteDifferences, randomProgram, runMetagrad, runTorch, torchVersion } from '../helpers/differential.js';

const PROGRAMS = 16;
const programs = Array.from({ length: PROGRAMS }, (_, i) => randomProgram(1000 + i));
const torch = runTorch(programs);
const probes = await probeBackends();
const backends = ['js', ...probes.filter((p) => p.available).map((p) => p.name)];

test('differential: the reference', (t) => {
  if (torch) t.pass(`PyTorch ${torchVersion()} in float64 (${programs.reduce((n, p) => n + p.nodes.length, 0)} ops in ${PROGRAMS} programs)`);
  else if (process.env['METAGRAD_REQUIRE_TORCH'] === '1') t.fail('METAGRAD_REQUIRE_TORCH=1 but /usr/bin/python3 cannot import torch (apt-get install python3-torch)');
  else t.comment('PyTorch is not installed: gradients and HVPs are checked against finite differences, values are not');
  t.end();
});

for (const backend of backends) {
  // float64 where the backend has it; WebGPU computes in float32 (inputs are float32-exact)
  const f64 = mg.getBackend(backend).supportsDType('float64');
  const [rtol, atol] = torch ? (f64 ? [1e-8, 1e-9] : [2e-4, 2e-4]) : f64 ? [1e-5, 1e-6] : [5e-3, 5e-3];
  test(`differential ${backend}: ${PROGRAMS} random programs, values, gradients and HVPs`, async (t) => {
    for (let i = 0; i < programs.length; i++) {
      const p = programs[i]!;
      const ref = torch ? torch[i]! : finiteDifferences(p);
      const got = await runMetagrad(p, backend, f64 ? 'float64' : 'float32');
      const c = compareDerivs(got, ref, rtol, atol);
      const ratio = torch ? c.worst : [c.grad, c.hvp].reduce((a, b) => (b.ratio > a.ratio ? b : a));
      // float32 on an ill-conditioned program: within 10x of the js backend's own float32 error
      let bound = 1;
      if (!f64 && ratio.ratio > 1) {
        const js32 = compareDerivs(await runMetagrad(p, 'js', 'float32'), ref, rtol, atol);
        bound = Math.max(1, 10 * (torch ? js32.worst.ratio : Math.max(js32.grad.ratio, js32.hvp.ratio)));
      }
      t.ok(ratio.ratio <= bound, `${describeProgram(p)}: worst ${ratio.what} at ${ratio.ratio.toExponential(2)}× tolerance${ratio.ratio > 1 ? ` ${ratio.detail}` : ''}`);
    }
    t.end();
  });
}

test('differential: the comparison catches a wrong derivative', async (t) => {
  // a reference whose HVP is off by 1e-4 relative must fail the float64 tolerance
  const p = programs[0]!;
  const got = await runMetagrad(p, 'js', 'float64');
  const bad = { ...got, hvps: got.hvps.map((h) => h.map((x) => x * (1 + 1e-4) + 1e-4)) };
  t.ok(compareDerivs(got, bad, 1e-8, 1e-9).hvp.ratio > 1, 'a perturbed HVP is detected');
  t.ok(compareDerivs(got, got, 1e-8, 1e-9).worst.ratio === 0, 'identical results compare equal');
  t.end();
});
