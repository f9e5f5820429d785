// Where data is looked for: the path given, METAGRAD_<NAME>, $METAGRAD_DATA/<name>, the
// per-user folder; a miss names every folder tried. And the shipped Vinyals split.
import test from 'tape';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as mg from '../../ts/index.js';
import { dataCandidates, expandVinyalsSplit, loadOmniglot, userDataDir } from '../../ts/data/index.js';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  }
}

test('data paths: candidates in order, and a miss that says where it looked', async (t) => {
  const env = { METAGRAD_OMNIGLOT: '/nowhere/own', METAGRAD_DATA: '/nowhere/all', XDG_CACHE_HOME: '/nowhere/cache' };
  const c = withEnv(env, () => dataCandidates('omniglot'));
  t.deepEqual(c.map((x) => x.dir), ['/nowhere/own', '/nowhere/all/omniglot', '/nowhere/cache/metagrad/omniglot'], 'METAGRAD_OMNIGLOT, $METAGRAD_DATA/omniglot, the per-user folder');
  t.deepEqual(withEnv(env, () => dataCandidates('omniglot', 'rel/dir')).map((x) => x.dir), [resolve('rel/dir')], 'an explicit path is the only candidate');
  t.equal(withEnv({ XDG_CACHE_HOME: undefined, HOME: '/home/u' }, () => userDataDir('mini-imagenet')), '/home/u/.cache/metagrad/mini-imagenet', '~/.cache/metagrad/<name> by default');
  t.deepEqual(withEnv({ ...env, METAGRAD_OMNIGLOT: undefined, METAGRAD_DATA: undefined }, () => dataCandidates('omniglot')).map((x) => x.from), ['the per-user data folder'], 'nothing relative to the package');
  let message = '';
  const pending = withEnv(env, () => loadOmniglot());
  await pending.then(() => t.fail('no data there'), (e) => {
    t.ok(e instanceof mg.DataError, 'a DataError');
    message = e.message;
  });
  for (const dir of ['/nowhere/own (METAGRAD_OMNIGLOT)', '/nowhere/all/omniglot (METAGRAD_DATA)', '/nowhere/cache/metagrad/omniglot (the per-user data folder)']) t.ok(message.includes(dir), `names ${dir}`);
  t.match(message, /--data PATH/, 'and says what to do');
});

test('the shipped Vinyals split is the published one, line for line', (t) => {
  for (const split of ['train', 'val', 'trainval', 'test'] as const) {
    const published = readFileSync(join(process.env['METAGRAD_DATA'] ?? '', 'omniglot', 'splits', 'vinyals', `${split}.txt`), 'utf8').split('\n').filter((l) => l.trim());
    const shipped = expandVinyalsSplit(split);
    t.equal(shipped.length, published.length, `${split}: ${published.length} lines`);
    t.deepEqual(shipped, published, `${split}: identical, in order`);
  }
  t.end();
});
