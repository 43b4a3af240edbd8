// docs/reference/configuration.md is what the config schemas and their doc comments say: regenerated
// and compared (npm run docs rewrites it); every TARTARUS_* variable the code reads is in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_OPTIONS } from '@tartarus/agent';
import { SERVER_OPTIONS } from './config.js';
import { optionComments, OTHER_VARIABLES, repoConfigReference, TEST_VARIABLES } from './config-reference.js';

const ROOT = new URL('../../../', import.meta.url);

async function* sources(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (/\.(ts|tsx|mjs|sh)$/.test(e.name)) yield p;
  }
}

test('docs/reference/configuration.md matches the config schemas (run `npm run docs` after changing an option)', async () => {
  const want = await repoConfigReference(ROOT, SERVER_OPTIONS, AGENT_OPTIONS);
  const have = await readFile(new URL('docs/reference/configuration.md', ROOT), 'utf8').catch(() => '');
  assert.ok(have === want, 'docs/reference/configuration.md is out of date: run `npm run docs` and commit it');
  assert.match(want, /^\| `cpuOvercommit` \| `--cpu-overcommit` \| `TARTARUS_CPU_OVERCOMMIT` \| number \| CPU requests placed per core/m);
  assert.match(want, /^\| `placement` \| `--placement` \| `TARTARUS_PLACEMENT` \| binpack \\\| spread \|/m);
  assert.match(want, /^\| `imageBudgetMiB` \| `TARTARUS_IMAGE_BUDGET_MIB` \| number \| The image cache/m);
});

test('every TARTARUS_* variable the code reads is documented', async () => {
  const known = new Set([...SERVER_OPTIONS, ...AGENT_OPTIONS].map((o) => o.env).concat(Object.keys(OTHER_VARIABLES), TEST_VARIABLES));
  const undocumented = new Set<string>();
  for (const top of ['apps', 'packages', 'scripts', 'bench', 'tests']) {
    for await (const file of sources(new URL(top, ROOT).pathname)) {
      const text = await readFile(file, 'utf8');
      // `TARTARUS_SNAKE_CASE` is config-sources.ts naming the pattern, not a variable.
      for (const m of text.matchAll(/TARTARUS_[A-Z0-9_]*[A-Z0-9]/g)) if (!known.has(m[0]) && m[0] !== 'TARTARUS_SNAKE_CASE') undocumented.add(`${m[0]} (${file})`);
    }
  }
  assert.deepEqual([...undocumented], [], 'add them to OTHER_VARIABLES in config-reference.ts (or TEST_VARIABLES)');
});

test('a config option without a doc comment is an error, not a blank cell', () => {
  const src = 'export const ServerConfigSchema = z.strictObject({\n  /** Documented. */\n  a: z.number(),\n  b: z.string(),\n});';
  assert.deepEqual([...optionComments(src, 'ServerConfigSchema')], [['a', 'Documented.'], ['b', '']]);
});
