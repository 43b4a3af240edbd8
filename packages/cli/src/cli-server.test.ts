// The `tartarus` binary against a real embedded server, found through its data dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, serverSkipReason, startCliServer, type CliServer } from './cli-test-helpers.js';

describe('tartarus against an embedded server', { skip: serverSkipReason() }, () => {
  let server: CliServer;
  const t = (args: string[], stdin?: string) => cli(args, server.env, stdin);
  before(async () => {
    server = await startCliServer();
  });
  after(async () => {
    await server?.close();
  });

  test('run streams output and exits with the workload exit code', async () => {
    const r = await t(['run', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.status, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const ok = await t([
      'run',
      '--timeout',
      '30s',
      '--memory',
      '64',
      '--env',
      'X=y',
      '--',
      'sh',
      '-c',
      'echo $X',
    ]);
    assert.equal(ok.status, 0);
    assert.equal(ok.stdout, 'y\n');
    const piped = await t(['run', '-i', '--', 'tr', 'a-z', 'A-Z'], 'shout\n');
    assert.deepEqual([piped.status, piped.stdout], [0, 'SHOUT\n']);
  });

  test('a run stopped by its timeout says so in one line and exits 124', async () => {
    const r = await t(['run', '--timeout', '1s', '--', 'sleep', '30']);
    assert.equal(r.status, 124);
    assert.match(r.stderr, /^error: run \S+ failed: timed out after 1000 ms\n$/);
  });

  test('run --json prints {id, exitCode, reason, stdout, stderr, durationMs}', async () => {
    const r = await t(['run', '--json', '--', 'sh', '-c', 'echo hi; exit 2']);
    assert.equal(r.status, 2);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out).sort(), [
      'durationMs',
      'exitCode',
      'id',
      'reason',
      'stderr',
      'stdout',
    ]);
    assert.equal(out.exitCode, 2);
    assert.equal(out.stdout, 'hi\n');
    assert.match(String(out.id), /^run/);
  });

  test('run --detach, then runs ls / get / logs / cancel', async () => {
    const d = await t(['run', '--detach', '--', 'sh', '-c', 'echo first; sleep 0.2; echo second']);
    assert.equal(d.status, 0);
    const id = d.stdout.trim();
    const logs = await t(['runs', 'logs', id, '-f']);
    assert.equal(logs.stdout, 'first\nsecond\n');
    const get = JSON.parse((await t(['runs', 'get', id, '--json'])).stdout) as {
      state: string;
      exitCode: number;
    };
    assert.deepEqual([get.state, get.exitCode], ['succeeded', 0]);
    // Without --json: the phase timeline of the run, every phase but the cleanup there (it may still be on its way).
    const text = (await t(['runs', 'get', id])).stdout;
    for (const phase of ['queued', 'placed', 'template ready', 'started', 'first output', 'exited']) assert.match(text, new RegExp(`^  ${phase} +\\+\\d+ ms`, 'm'), text);
    const ls = await t(['runs', 'ls']);
    assert.match(ls.stdout, /^ID\s+STATE/);
    assert.ok(ls.stdout.includes(id));
    const page = JSON.parse((await t(['runs', 'ls', '--json'])).stdout) as {
      items: { id: string }[];
    };
    assert.ok(page.items.some((r) => r.id === id));
    const cancelled = await t(['runs', 'cancel', id]);
    assert.equal(cancelled.status, 0);
  });

  test('sandbox create / exec / files / pause / resume / kill', async () => {
    const created = await t(['sandbox', 'create', '--timeout', '2m']);
    assert.equal(created.status, 0, created.stderr);
    const id = created.stdout.trim();
    try {
      const exec = await t(['sandbox', 'exec', id, '--', 'sh', '-c', 'echo in; exit 4']);
      assert.deepEqual([exec.status, exec.stdout], [4, 'in\n']);
      const piped = await t(
        ['sandbox', 'exec', '-i', id, '--', 'sh', '-c', 'read x; echo got $x'],
        'line\n',
      );
      assert.deepEqual([piped.status, piped.stdout], [0, 'got line\n']);
      assert.equal((await t(['sandbox', 'files', 'write', id, '/tmp/f.txt'], 'payload')).status, 0);
      assert.equal((await t(['sandbox', 'files', 'read', id, '/tmp/f.txt'])).stdout, 'payload');
      assert.match((await t(['sandbox', 'files', 'ls', id, '/tmp'])).stdout, /f\.txt/);
      assert.equal((await t(['sandbox', 'files', 'rm', id, '/tmp/f.txt'])).status, 0);
      assert.equal((await t(['sandbox', 'pause', id])).stdout, `${id} paused\n`);
      assert.equal((await t(['sandbox', 'resume', id])).stdout, `${id} running\n`);
      const info = JSON.parse((await t(['sandbox', 'get', id, '--json'])).stdout) as {
        state: string;
      };
      assert.equal(info.state, 'running');
      assert.match((await t(['sandbox', 'ls'])).stdout, new RegExp(id));
    } finally {
      await t(['sandbox', 'kill', id]);
    }
    const gone = await t(['sandbox', 'exec', id, '--', 'true']);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^error: .*not running/);
  });

  test('administration commands print tables and JSON', async () => {
    assert.match((await t(['templates', 'ls'])).stdout, /busybox\s+yes/);
    const nodes = JSON.parse((await t(['nodes', 'ls', '--json'])).stdout) as { status: string }[];
    assert.ok(nodes.some((n) => n.status === 'up'));
    const key = JSON.parse(
      (await t(['keys', 'create', 'cli-test', '--role', 'viewer', '--json'])).stdout,
    ) as { id: string; secret: string };
    assert.ok(key.secret);
    assert.match((await t(['keys', 'ls'])).stdout, /cli-test\s+viewer/);
    assert.equal((await t(['keys', 'revoke', key.id])).status, 0);
    const tenant = JSON.parse(
      (
        await t([
          'tenants',
          'create',
          'cli-tenant',
          ...'--max-sandboxes 3 --max-log-bytes 1MiB --json'.split(' '),
        ])
      ).stdout,
    ) as { id: string; maxLogBytes: number };
    assert.equal(tenant.maxLogBytes, 1024 * 1024);
    const updated = JSON.parse(
      (
        await t([
          'tenants',
          'update',
          tenant.id,
          ...'--max-queued-runs 7 --max-log-bytes 4096 --json'.split(' '),
        ])
      ).stdout,
    ) as { maxQueuedRuns: number; maxConcurrentSandboxes: number; maxLogBytes: number };
    assert.deepEqual(
      [updated.maxQueuedRuns, updated.maxConcurrentSandboxes, updated.maxLogBytes],
      [7, 3, 4096],
    );
    assert.match((await t(['tenants', 'get', tenant.id])).stdout, /cli-tenant.*0 \/ 4096/);
    const snapshotBytes = async (size: string) =>
      (JSON.parse((await t(['tenants', 'update', tenant.id, '--max-snapshot-bytes', size, '--json'])).stdout) as { maxSnapshotBytes: number | null }).maxSnapshotBytes;
    assert.equal(await snapshotBytes('2GiB'), 2 * 1024 ** 3);
    assert.match((await t(['tenants', 'get', tenant.id])).stdout, /cli-tenant.*0 \/ 4096\s+2147483648/);
    assert.equal(await snapshotBytes('unset'), null, "unset: the server's");
    const audit = JSON.parse((await t(['audit', 'ls', '--json'])).stdout) as {
      items: { action: string }[];
    };
    assert.ok(audit.items.length > 0);
  });

  test('usage: a table with a total, JSON, CSV; a bad time is one line with exit 2', async () => {
    assert.equal((await t(['run', '--', 'true'])).status, 0);
    // The run's final usage report follows its end.
    let report: { rows: { key: string; sandboxes: number }[] } = { rows: [] };
    for (let i = 0; i < 100 && report.rows.length === 0; i++) {
      report = JSON.parse((await t(['usage', '--group', 'runtime', '--json'])).stdout) as typeof report;
      if (report.rows.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(report.rows[0]?.key, 'container');
    assert.ok((report.rows[0]?.sandboxes ?? 0) >= 1);
    const table = (await t(['usage', '--group', 'runtime', '--from', '1d'])).stdout.split('\n');
    assert.match(table[0] ?? '', /^usage by runtime from /);
    assert.match(table[1] ?? '', /^RUNTIME\s+CPU-S\s+MEM-GIB-S\s+SANDBOX-S\s+EGRESS\s+SANDBOXES$/);
    assert.match(table[2] ?? '', /^container\s+\d+\.\d\d\s/);
    assert.match(table[3] ?? '', /^TOTAL\s/);
    const csv = (await t(['usage', '--csv', '--from', new Date().toISOString().slice(0, 10)])).stdout;
    assert.match(csv, /^day,cpu_seconds,memory_gib_seconds,sandbox_seconds,egress_bytes,sandboxes\r\n\d{4}-\d\d-\d\d,/);
    const bad = await t(['usage', '--from', 'yesterday']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--from.*not a time: give a date/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });

  test('secrets from stdin, listed without values; events listed by type', async () => {
    const set = await t(['secrets', 'set', 'ci-token'], 'abc-secret-123\n');
    assert.equal(set.status, 0, set.stderr);
    const ls = await t(['secrets', 'ls']);
    assert.match(ls.stdout, /^ci-token\s/m);
    assert.doesNotMatch(ls.stdout + (await t(['secrets', 'ls', '--json'])).stdout, /abc-secret/);
    const tty = await t(['secrets', 'set', 'nothing'], '');
    assert.equal(tty.status, 2);
    assert.match(tty.stderr, /no value on stdin/);
    assert.equal((await t(['secrets', 'rm', 'ci-token'])).status, 0);
    assert.equal((await t(['run', '--', 'true'])).status, 0);
    const events = JSON.parse((await t(['events', '--type', 'run.finished', '--json'])).stdout) as { items: { type: string; data: { state: string } }[] };
    assert.ok(events.items.length >= 1);
    assert.ok(events.items.every((e) => e.type === 'run.finished'));
    const bad = await t(['events', '--type', 'run.exploded']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /use one of run.queued/);
  });

  test('integrations: listed, configured from a JSON file, a bad file is one line with exit 2', async () => {
    assert.match((await t(['integrations', 'ls'])).stdout, /^github\s+no\s+POST \/v1\/integrations\/github\/webhook\/:tenant/m);
    const dir = await mkdtemp(join(tmpdir(), 'tt-cli-int-'));
    try {
      await writeFile(join(dir, 'slack.json'), JSON.stringify({ signingSecret: 'slack-signing' }));
      await writeFile(join(dir, 'bad.json'), '{"signingSecret":');
      assert.equal((await t(['integrations', 'set', 'slack', join(dir, 'slack.json')])).stdout, 'configured slack\n');
      assert.equal((JSON.parse((await t(['integrations', 'get', 'slack'])).stdout) as { signingSecret: string }).signingSecret, 'slack-signing');
      const bad = await t(['integrations', 'set', 'slack', join(dir, 'bad.json')]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /bad\.json is not JSON/);
      const refused = await t(['integrations', 'set', 'github', join(dir, 'slack.json')]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /^error: github config: /);
      assert.equal((await t(['integrations', 'rm', 'slack'])).status, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('server errors are one line with exit 1', async () => {
    const r = await t(['runs', 'get', 'run_doesnotexist']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^error: .*not found/);
    const bad = await cli(['runs', 'ls'], { ...server.env, TARTARUS_API_KEY: 'tt_bad' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^error: .*TARTARUS_API_KEY/);
  });
});
