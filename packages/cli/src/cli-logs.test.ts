// `tartarus logs search` against a real embedded server: lines found by text and run, in time order, as text or JSON.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, serverSkipReason, startCliServer, type CliServer } from './cli-test-helpers.js';

describe('tartarus logs search', { skip: serverSkipReason() }, () => {
  let server: CliServer;
  const t = (args: string[]) => cli(args, server.env);
  before(async () => {
    server = await startCliServer();
  });
  after(async () => {
    await server?.close();
  });

  test('finds lines by text in any case and by run, oldest printed first, each with its time, run and stream', async () => {
    const tag = `clue${Date.now().toString(36)}`;
    const first = await t(['run', '--json', '--', 'sh', '-c', `echo "one ${tag}"; echo two`]);
    assert.equal(first.status, 0, first.stderr);
    const runId = (JSON.parse(first.stdout) as { id: string }).id;
    const second = await t(['run', '--', 'sh', '-c', `echo "three ${tag}" >&2`]);
    assert.equal(second.status, 0, second.stderr);

    const found = await t(['logs', 'search', tag.toUpperCase()]);
    assert.equal(found.status, 0, found.stderr);
    const lines = found.stdout.trimEnd().split('\n').filter((l) => l.includes(tag));
    assert.equal(lines.length, 2, found.stdout);
    assert.match(lines[0] ?? '', new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+  ${runId}  stdout  one ${tag}$`));
    assert.match(lines[1] ?? '', new RegExp(`  stderr  three ${tag}$`));

    const byRun = await t(['logs', 'search', '--run', runId, '--json']);
    assert.equal(byRun.status, 0, byRun.stderr);
    const items = byRun.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { runId: string; data: string });
    assert.ok(items.every((i) => i.runId === runId));
    assert.equal(items.map((i) => i.data).join(''), `one ${tag}\ntwo\n`);

    const none = await t(['logs', 'search', tag, '--from', '2099-01-01']);
    assert.deepEqual([none.status, none.stdout], [0, '']);
  });

  test('a bad time is one usage line, exit 2', async () => {
    const r = await t(['logs', 'search', 'x', '--from', 'yesterday']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is not a time/);
  });
});
