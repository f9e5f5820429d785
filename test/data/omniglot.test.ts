// Omniglot against ../shared/data/omniglot: counts, splits, the episode sampler.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { EpisodeSampler, loadOmniglot, type Omniglot } from '../../ts/data/index.js';

let om: Omniglot;

test('omniglot: loads (builds the cache once) and counts match the release', async (t) => {
  const t0 = Date.now();
  om = await loadOmniglot();
  t.comment(`loaded in ${Date.now() - t0} ms (${om.fromCache ? 'from cache' : 'decoded the PNGs and built the cache'}) at ${om.cachePath}`);
  t.equal(om.characterCount, 1623, '1623 characters');
  t.equal(om.imageCount, 1623 * 20, '20 drawings each');
  t.ok(om.store.characters.every((c) => c.count === 20), 'every character has 20 drawings');
  t.equal(om.characters('background').size, 964, 'background 964');
  t.equal(om.characters('evaluation').size, 659, 'evaluation 659');
  t.equal(om.characters('background', { rotations: true }).size, 964 * 4, 'rotations ×4');
  t.equal(new Set(om.characters('background').alphabets()).size, 30, '30 background alphabets');
  t.equal(om.characters('evaluation').alphabets().length, 20, '20 evaluation alphabets');
  const again = await loadOmniglot();
  t.ok(again.fromCache, `second load reads the cache (${again.loadMs} ms)`);
  t.ok(again.loadMs < 5000, 'cached load is fast');
  t.deepEqual(Array.from(again.store.pixels.subarray(0, 2000)), Array.from(om.store.pixels.subarray(0, 2000)), 'cache round trip');
});

test('omniglot: Vinyals splits resolve to existing characters and are disjoint', (t) => {
  const sizes: Record<string, number> = { train: 1028, val: 172, trainval: 1200, test: 423 };
  const names: Record<string, Set<string>> = {};
  for (const [s, n] of Object.entries(sizes)) {
    const c = om.characters(`vinyals-${s}` as 'vinyals-train');
    t.equal(c.size, n * 4, `vinyals-${s}: ${n} characters × 4 rotations`);
    t.equal(om.characters(`vinyals-${s}` as 'vinyals-train', { rotations: false }).size, n, `vinyals-${s} without rotations`);
    names[s] = new Set(c.names());
    t.equal(names[s]!.size, n * 4, `vinyals-${s}: no duplicates`);
  }
  const overlap = (a: Set<string>, b: Set<string>) => [...a].filter((x) => b.has(x)).length;
  t.equal(overlap(names.train!, names.val!), 0, 'train ∩ val = ∅');
  t.equal(overlap(names.trainval!, names.test!), 0, 'trainval ∩ test = ∅');
  t.equal(overlap(names.train!, names.test!) + overlap(names.val!, names.test!), 0, 'train, val ∩ test = ∅');
  t.deepEqual([...names.trainval!].sort(), [...names.train!, ...names.val!].sort(), 'trainval = train ∪ val');
  const evalSet = new Set(om.characters('evaluation').names().map((n) => n.replace(/\/rot\d+$/, '')));
  t.ok([...names.test!].every((n) => evalSet.has(n.replace(/\/rot\d+$/, ''))), 'test characters all come from the evaluation alphabets');
  t.end();
});

test('omniglot: alphabet-disjoint split', (t) => {
  const all = om.all();
  const parts = all.splitByAlphabet(new mg.Rng(3), [0.7, 0.1, 0.2]);
  t.equal(parts.reduce((n, p) => n + p.size, 0), 1623, 'every class lands in one part');
  const alph = parts.map((p) => new Set(p.alphabets()));
  t.ok(alph.every((a, i) => alph.every((b, j) => i === j || [...a].every((x) => !b.has(x)))), 'parts share no alphabet');
  t.ok(parts.every((p) => p.size > 0), `part sizes ${parts.map((p) => p.size).join('/')}`);
  const again = all.splitByAlphabet(new mg.Rng(3), [0.7, 0.1, 0.2]);
  t.deepEqual(again.map((p) => p.alphabets()), parts.map((p) => p.alphabets()), 'deterministic under a seed');
  t.end();
});

test('omniglot: episode sampler', (t) => {
  const classes = om.characters('vinyals-train');
  const sampler = new EpisodeSampler(classes, { ways: 5, shots: 2, queries: 3 });
  const ep = sampler.episode(new mg.Rng(11));
  t.deepEqual([ep.support.x.shape, ep.support.y.shape, ep.query.x.shape, ep.query.y.shape], [[10, 1, 28, 28], [10], [15, 1, 28, 28], [15]]);
  t.equal(ep.support.y.dtype, 'int32');
  t.equal(ep.ways, 5, 'the episode says its number of ways');
  t.deepEqual(Array.from(ep.support.y.dataSync()), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], 'labels remapped to 0..N-1, K each');
  t.deepEqual(Array.from(ep.query.y.dataSync()), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4], 'Q queries per class');
  const xs = ep.support.x.dataSync(), xq = ep.query.x.dataSync();
  let lo = Infinity, hi = -Infinity;
  for (const v of xs) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  t.ok(lo >= 0 && hi <= 1 && hi > 0.9, `pixels in [0, 1] (${lo}..${hi})`);
  // disjoint support/query: no query image equals a support image of its class
  const px = 784;
  const img = (a: ArrayLike<number>, i: number) => Array.from(a as Float32Array).slice(i * px, (i + 1) * px).join(',');
  const sup = new Set(Array.from({ length: 10 }, (_, i) => img(xs, i)));
  t.equal(sup.size, 10, 'support images distinct');
  t.ok(Array.from({ length: 15 }, (_, i) => img(xq, i)).every((q) => !sup.has(q)), 'query images never in the support');
  // determinism
  const a = sampler.episode(new mg.Rng(42)), b = sampler.episode(new mg.Rng(42)), c = sampler.episode(new mg.Rng(43));
  t.deepEqual(Array.from(a.query.x.dataSync()), Array.from(b.query.x.dataSync()), 'same seed, same episode');
  t.notDeepEqual(Array.from(a.support.x.dataSync()), Array.from(c.support.x.dataSync()), 'another seed, another episode');
  // class counts: many episodes pick 5 distinct classes each
  const rng = new mg.Rng(5);
  let distinct = true;
  for (let e = 0; e < 20; e++) {
    const ep2 = sampler.episode(rng);
    const firsts = new Set(Array.from({ length: 5 }, (_, k) => img(ep2.support.x.dataSync(), 2 * k)));
    distinct &&= firsts.size === 5;
    mg.disposeAll(ep2);
  }
  t.ok(distinct, 'each episode has 5 distinct classes');
  const mb = sampler.metaBatch(new mg.Rng(1), 4);
  t.deepEqual([mb.support.x.shape, mb.support.y.shape, mb.query.x.shape, mb.query.y.shape], [[4, 10, 1, 28, 28], [4, 10], [4, 15, 1, 28, 28], [4, 15]], 'meta-batch stacked');
  t.throws(() => new EpisodeSampler(classes, { ways: 5, shots: 15, queries: 6 }), mg.ShapeError, 'shots + queries > 20 drawings');
  t.throws(() => new EpisodeSampler(om.characters('background').filterAlphabets(['Latin']), { ways: 30, shots: 1, queries: 1 }), mg.ShapeError, 'more ways than classes');
  mg.disposeAll([ep, a, b, c, mb]);
  t.end();
});

test('omniglot: rotations are counter-clockwise quarter turns', (t) => {
  const c = om.characters('background', { rotations: true });
  const r0 = c.image(0, 0), r1 = c.image(1, 0), r2 = c.image(2, 0);
  const s = 28;
  let ok1 = true, ok2 = true;
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) {
    ok1 &&= r1[i * s + j] === r0[j * s + (s - 1 - i)];
    ok2 &&= r2[i * s + j] === r0[(s - 1 - i) * s + (s - 1 - j)];
  }
  t.ok(ok1 && ok2, 'rot090 and rot180 match the index maps');
  t.deepEqual([c.name(0), c.name(1)], [`${c.classes[0]!.character.alphabet}/${c.classes[0]!.character.character}/rot000`, `${c.classes[0]!.character.alphabet}/${c.classes[0]!.character.character}/rot090`]);
  t.end();
});

test('omniglot: a missing folder is a DataError naming the path', async (t) => {
  try {
    await loadOmniglot({ root: '/nonexistent/omniglot' });
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof mg.DataError && (e as Error).message.includes('/nonexistent/omniglot'), (e as Error).message);
  }
});
