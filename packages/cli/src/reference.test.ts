// docs/reference/cli.md is what the command tree says: regenerated and compared (npm run docs rewrites it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { buildProgram } from './program.js';
import { cliReference } from './reference.js';

const FILE = new URL('../../../docs/reference/cli.md', import.meta.url);

test('docs/reference/cli.md matches the CLI (run `npm run docs` after changing a command)', async () => {
  const want = cliReference(buildProgram());
  const have = await readFile(FILE, 'utf8').catch(() => '');
  assert.ok(have === want, 'docs/reference/cli.md is out of date: run `npm run docs` and commit it');
  // Every command is in it, with its options.
  assert.match(want, /^## `tartarus runs get <id>`$/m);
  assert.match(want, /\| `--log-level <level>` \| .*one of fatal, error, warn, info, debug, trace, silent; default "warn"/);
});
