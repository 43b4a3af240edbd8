// `tartarus webhooks`: usage errors without a server, then the real binary against an embedded
// server (create prints the secret once, ls/update/deliveries/rm, a refused destination is one
// error line naming the rule).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, serverSkipReason, startCliServer, type CliServer } from './cli-test-helpers.js';

test('bad webhook flags are one usage line and exit 2', async () => {
  for (const [args, says] of [
    [['webhooks', 'create', 'https://hooks.example.com/x'], /give at least one --type/],
    [['webhooks', 'create', 'https://hooks.example.com/x', '--type', 'run.exploded'], /--type.*use one of run\.queued/],
    [['webhooks', 'update', 'whk_x'], /nothing to change/],
    [['webhooks', 'update', 'whk_x', '--enable', '--disable'], /--enable or --disable, not both/],
    [['webhooks', 'deliveries', 'whk_x', '--state', 'lost'], /use one of pending, succeeded, failed/],
    [['webhooks', 'redeliver', 'whk_x'], /missing required argument 'delivery'/],
  ] as const) {
    const r = await cli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /, args.join(' '));
    assert.match(r.stderr, says, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

describe('webhooks against an embedded server', { skip: serverSkipReason() }, () => {
  let server: CliServer;
  const t = (args: string[]) => cli(args, server.env);
  before(async () => {
    server = await startCliServer();
  });
  after(async () => {
    await server?.close();
  });

  test('create prints the secret once; ls, update, deliveries and rm; a refused URL names its rule', async () => {
    const created = await t(['webhooks', 'create', 'https://93.184.216.34/hook', '--type', 'run.finished', '--type', 'sandbox.ended']);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /^whsec_[A-Za-z0-9_-]{43}\n$/);
    const id = /created (whk_\w+) for run\.finished, sandbox\.ended/.exec(created.stderr)?.[1] ?? '';
    assert.ok(id, created.stderr);
    const listed = await t(['webhooks', 'ls']);
    assert.match(listed.stdout, new RegExp(`${id}\\s+https://93\\.184\\.216\\.34/hook\\s+run\\.finished,sandbox\\.ended\\s+enabled`));
    assert.doesNotMatch(listed.stdout, /whsec_/);
    const off = await t(['webhooks', 'update', id, '--disable', '--type', 'run.finished']);
    assert.equal(off.status, 0, off.stderr);
    assert.match(off.stdout, /run\.finished\s+disabled/);
    const log = JSON.parse((await t(['webhooks', 'deliveries', id, '--json'])).stdout) as { items: unknown[] };
    assert.deepEqual(log.items, []);
    const missing = await t(['webhooks', 'redeliver', id, 'dlv_missing']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^error: delivery dlv_missing of webhook whk_\w+ not found/);
    const refused = await t(['webhooks', 'create', 'http://169.254.169.254/latest/meta-data/', '--type', 'run.finished']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^error: .*refused \(link-local\)/);
    assert.equal((await t(['webhooks', 'rm', id])).stdout, `removed webhook ${id}\n`);
    assert.equal((await t(['webhooks', 'ls'])).stdout, '(none)\n');
  });
});
