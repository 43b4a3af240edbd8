// The CLI's behaviour that needs no server: help everywhere, usage errors, connection errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from './program.js';
import { cli } from './cli-test-helpers.js';

function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

test('--help works on every command and exits 0', async () => {
  const paths = [[], ...commandPaths(buildProgram())];
  assert.ok(paths.length > 25, `expected the whole command tree, got ${paths.length}`);
  // Four at a time: each is a fresh Node process.
  for (let i = 0; i < paths.length; i += 4) {
    await Promise.all(
      paths.slice(i, i + 4).map(async (path) => {
        const r = await cli([...path, '--help']);
        assert.equal(r.status, 0, `tartarus ${path.join(' ')} --help: ${r.stderr}`);
        assert.match(r.stdout, /^Usage: tartarus/, path.join(' '));
      }),
    );
  }
});

test('a bad flag value is one error line and exit 2', async () => {
  const r = await cli(['run', '--timeout', 'abc', '--', 'echo', 'hi']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: .*--timeout.*invalid duration "abc"/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  for (const args of [
    ['run', '--memory', 'lots', '--', 'x'],
    ['run', '--runtime', 'docker', '--', 'x'],
    ['nosuchcommand'],
    ['runs', 'ls', '--state', 'odd'],
    ['up', '--port', '70000'],
    ['tenants', 'create', 'x', '--max-queued-runs', ''],
    ['tenants', 'update', 'ten_x', '--max-log-bytes', '1GB'],
  ]) {
    const bad = await cli(args);
    assert.equal(bad.status, 2, args.join(' '));
    assert.match(bad.stderr, /^error: /, args.join(' '));
  }
  const size = await cli(['tenants', 'create', 'x', '--max-log-bytes', '-5']);
  assert.match(size.stderr, /"-5" is not a size: give a whole number of bytes, or one with KiB/);
  const noRoom = await cli(['tenants', 'update', 'ten_x', '--max-snapshot-bytes', '0']);
  assert.equal(noRoom.status, 2);
  assert.match(noRoom.stderr, /"0" is no room for snapshots: give a size above 0 \(e\.g\. 10GiB\), or unset for the server's/);
});

test('with no server anywhere, the error says how to start one (exit 1, no stack)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tartarus-cli-'));
  try {
    const none = await cli(['runs', 'ls'], { TARTARUS_DATA_DIR: join(dir, 'absent') });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /^error: no Tartarus server found .*npx tartarus up/);
    const refused = await cli(['sandbox', 'ls', '--json'], { TARTARUS_URL: 'http://127.0.0.1:9' });
    assert.equal(refused.status, 1);
    assert.equal(
      refused.stderr,
      'error: no Tartarus server found at http://127.0.0.1:9: start one with `npx tartarus up`\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
