// `--egress`, `--network-policy`, `sandbox egress`, `network-policies` and the tenants' network
// flags: usage errors without a server, then the real binary against an embedded server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, serverSkipReason, startCliServer, type CliServer } from './cli-test-helpers.js';

test('bad egress flags are one usage line and exit 2', async () => {
  for (const [args, says] of [
    [
      ['sandbox', 'create', '--egress', ' , '],
      /--egress.*give none, all, or destinations separated by commas/,
    ],
    [
      ['run', '--egress', 'all', '--network-policy', 'web', '--', 'true'],
      /give --egress or --network-policy, not both/,
    ],
    [['sandbox', 'egress', 'sbx_x'], /missing required argument 'policy'/],
    [['network-policies', 'create', 'web'], /required option '--egress <policy>' not specified/],
    [['tenants', 'update', 'ten_x', '--max-egress', ','], /give none, all, or destinations/],
  ] as const) {
    const r = await cli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /, args.join(' '));
    assert.match(r.stderr, says, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

describe(
  'egress and network policies against an embedded server',
  { skip: serverSkipReason() },
  () => {
    let server: CliServer;
    const t = (args: string[]) => cli(args, server.env);
    before(async () => {
      server = await startCliServer();
    });
    after(async () => {
      await server?.close();
    });

    test('network-policies create/ls/rm; sandbox create --network-policy and --egress; sandbox egress', async () => {
      const created = await t([
        'network-policies',
        'create',
        'intranet',
        '--egress',
        '10.0.0.0/8, pypi.org:443',
        '--description',
        'inside',
      ]);
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /intranet\s+10\.0\.0\.0\/8,pypi\.org:443\s+inside/);
      const listed = JSON.parse((await t(['network-policies', 'ls', '--json'])).stdout) as {
        name: string;
        egress: string[];
      }[];
      assert.deepEqual(
        listed.map((p) => [p.name, p.egress]),
        [['intranet', ['10.0.0.0/8', 'pypi.org:443']]],
      );

      const byName = JSON.parse(
        (await t(['sandbox', 'create', '--network-policy', 'intranet', '--json'])).stdout,
      ) as { id: string; egress: unknown };
      assert.deepEqual(byName.egress, ['10.0.0.0/8', 'pypi.org:443']);
      const changed = await t(['sandbox', 'egress', byName.id, 'none']);
      assert.deepEqual(
        [changed.status, changed.stdout],
        [0, `${byName.id} egress none\n`],
        changed.stderr,
      );
      assert.equal(
        (await t(['sandbox', 'egress', byName.id, '10.1.0.0/16,10.2.0.0/16'])).stdout,
        `${byName.id} egress 10.1.0.0/16,10.2.0.0/16\n`,
      );

      const lo = (await t(['sandbox', 'create', '--egress', 'none'])).stdout.trim();
      const refused = await t(['sandbox', 'egress', lo, 'all']);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /^error: .*created with egress "none"/);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);

      const bad = await t(['sandbox', 'create', '--egress', '10.0.0.1/8']);
      assert.equal(bad.status, 1);
      assert.match(
        bad.stderr,
        /^error: .*egress entry "10\.0\.0\.1\/8" has host bits set: write 10\.0\.0\.0\/8\n$/,
      );
      const run = await t(['run', '--egress', '10.0.0.0/8', '--', 'true']);
      assert.equal(run.status, 0, run.stderr);

      const removed = await t(['network-policies', 'rm', 'intranet']);
      assert.deepEqual([removed.status, removed.stdout], [0, 'removed network policy intranet\n']);
      const gone = await t(['sandbox', 'create', '--network-policy', 'intranet']);
      assert.equal(gone.status, 1);
      assert.match(gone.stderr, /networkPolicy "intranet" does not exist/);
      for (const id of [byName.id, lo]) await t(['sandbox', 'kill', id]);
    });

    test("tenants' network settings: --max-egress refuses more, naming the rule; unset clears it", async () => {
      const tenant = JSON.parse(
        (await t(['tenants', 'create', 'netted', '--max-egress', '10.0.0.0/8', '--json'])).stdout,
      ) as { id: string; maxEgress: unknown };
      assert.deepEqual(tenant.maxEgress, ['10.0.0.0/8']);
      const bad = await t(['tenants', 'update', tenant.id, '--default-run-egress', 'all']);
      assert.equal(bad.status, 1);
      assert.match(
        bad.stderr,
        /^error: .*defaultRunEgress "all" is more than maxEgress \["10\.0\.0\.0\/8"\] allows/,
      );
      const table = await t(['tenants', 'get', tenant.id]);
      assert.match(table.stdout, /MAX EGRESS/);
      assert.match(table.stdout, /netted.*10\.0\.0\.0\/8/);
      const cleared = JSON.parse(
        (await t(['tenants', 'update', tenant.id, '--max-egress', 'unset', '--json'])).stdout,
      ) as { maxEgress: unknown };
      assert.equal(cleared.maxEgress, null);
    });
  },
);
