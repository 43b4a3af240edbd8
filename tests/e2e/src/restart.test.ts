/**
 * Crash and restart: the embedded platform runs as a child process, accepts runs (some long) and
 * holds a sandbox, is killed with SIGKILL, and is started again on the same data dir. Every
 * accepted run must reach a final state and the sandbox must be re-adopted (exec works).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Runtime } from '@tartarus/runtime';
import { assertNoLeaks, snapshotHost } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually } from './helpers.js';

const CHILD = new URL('./fixtures/embedded-child.js', import.meta.url).pathname;

async function startChild(
  dataDir: string,
): Promise<{ child: ChildProcess; url: string; adminKey: string | null }> {
  const child = spawn(process.execPath, [CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`embedded child exited early with ${code}`)));
  });
  const { url, adminKey } = JSON.parse(line) as { url: string; adminKey: string | null };
  return { child, url, adminKey };
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

test('kill -9 while runs are in flight, restart: nothing accepted is lost, sandboxes are re-adopted', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const dataDir = await mkdtemp(join(tmpdir(), 'tt-restart-'));
  let first: ChildProcess | undefined;
  let second: ChildProcess | undefined;
  try {
    const a = await startChild(dataDir);
    first = a.child;
    const key = a.adminKey;
    assert.ok(key, 'first start prints the admin key');
    const keyFile = await stat(join(dataDir, 'admin-key'));
    assert.equal(keyFile.mode & 0o777, 0o600);
    assert.equal((await readFile(join(dataDir, 'url'), 'utf8')).trim(), a.url);

    const runIds: string[] = [];
    for (let i = 0; i < 3; i++)
      runIds.push(
        (await call(a.url, key, 'POST', '/v1/runs', { body: { command: `echo quick-${i}` } })).json
          .id,
      );
    const long: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(a.url, key, 'POST', '/v1/runs', {
        body: { command: `sleep 3; echo long-${i}` },
        headers: { 'idempotency-key': `long-${i}` },
      });
      assert.equal(r.status, 201);
      long.push(r.json.id);
    }
    runIds.push(...long);
    const sbx = await call(a.url, key, 'POST', '/v1/sandboxes', { body: { timeoutMs: 600_000 } });
    assert.equal(sbx.status, 201, sbx.text);
    const put = await call(
      a.url,
      key,
      'PUT',
      `/v1/sandboxes/${sbx.json.id}/files?path=/tmp/keep.txt`,
      { raw: 'kept', headers: { 'content-type': 'application/octet-stream' } },
    );
    assert.equal(put.status, 204);
    // At least one long run is running when the process dies.
    await eventually(
      async () =>
        (await call(a.url, key, 'GET', `/v1/runs/${long[0]}`)).json.state === 'running'
          ? true
          : undefined,
      60_000,
      'a long run to start',
    );

    await stop(first, 'SIGKILL');
    const b = await startChild(dataDir);
    second = b.child;
    assert.equal(b.adminKey, null, 'the admin key is printed only on the first start');
    assert.equal((await readFile(join(dataDir, 'admin-key'), 'utf8')).trim(), key);

    // An idempotent replay after the restart returns the same run.
    const replay = await call(b.url, key, 'POST', '/v1/runs', {
      body: { command: 'sleep 3; echo long-0' },
      headers: { 'idempotency-key': 'long-0' },
    });
    assert.equal(replay.status, 200);
    assert.equal(replay.json.id, long[0]);

    for (const id of runIds) {
      const run = await eventually(
        async () => {
          const r = await call(b.url, key, 'GET', `/v1/runs/${id}?output=true`);
          return ['succeeded', 'failed', 'cancelled', 'dead'].includes(r.json.state)
            ? r.json
            : undefined;
        },
        120_000,
        `run ${id} to finish`,
      );
      assert.equal(run.state, 'succeeded', JSON.stringify(run));
      assert.match(run.stdout, /(quick|long)-\d/);
    }
    const attempts = await call(b.url, key, 'GET', `/v1/runs/${long[0]}/attempts`);
    assert.ok(attempts.json.items.length >= 2, 'the interrupted attempt was retried');

    const s = await eventually(
      async () => {
        const r = await call(b.url, key, 'GET', `/v1/sandboxes/${sbx.json.id}`);
        return r.json.state === 'running' ? r.json : undefined;
      },
      30_000,
      'the sandbox to be re-adopted',
    );
    assert.equal(s.state, 'running');
    const exec = await call(b.url, key, 'POST', `/v1/sandboxes/${sbx.json.id}/exec`, {
      body: { argv: ['cat', '/tmp/keep.txt'] },
    });
    assert.equal(exec.status, 200, exec.text);
    assert.equal(exec.json.stdout, 'kept');
    // The attempts that died with the first process left their sandboxes behind; reconcile
    // destroyed them: only the interactive sandbox remains on the host.
    const onHost = await new Runtime({
      stateDir: join(dataDir, 'runtime'),
      templateDir: join(dataDir, 'templates'),
    }).list();
    assert.deepEqual(
      onHost.map((i) => i.id),
      [sbx.json.id],
    );
    assert.equal(
      (await call(b.url, key, 'DELETE', `/v1/sandboxes/${sbx.json.id}`)).json.state,
      'killed',
    );
  } finally {
    await stop(first, 'SIGKILL');
    await stop(second, 'SIGTERM');
    await new Runtime({
      stateDir: join(dataDir, 'runtime'),
      templateDir: join(dataDir, 'templates'),
    })
      .cleanupOrphans()
      .catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a sandbox ends at its timeout while the platform is down; the next start reports the timeout', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const dataDir = await mkdtemp(join(tmpdir(), 'tt-restart-'));
  let first: ChildProcess | undefined;
  let second: ChildProcess | undefined;
  const onHost = (): Promise<string[]> =>
    new Runtime({ stateDir: join(dataDir, 'runtime'), templateDir: join(dataDir, 'templates') })
      .list()
      .then((l) => l.filter((i) => i.state === 'running').map((i) => i.id));
  try {
    const a = await startChild(dataDir);
    first = a.child;
    const key = a.adminKey ?? '';
    const sbx = await call(a.url, key, 'POST', '/v1/sandboxes', { body: { timeoutMs: 1000 } });
    assert.equal(sbx.status, 201, sbx.text);
    await stop(first, 'SIGKILL');
    // Nothing of Tartarus runs now but the sandbox itself: it ends at its deadline (+ margin).
    await eventually(async () => ((await onHost()).includes(sbx.json.id) ? undefined : true), 30_000, 'the sandbox to end by itself');
    const b = await startChild(dataDir);
    second = b.child;
    const s = await eventually(
      async () => {
        const r = await call(b.url, key, 'GET', `/v1/sandboxes/${sbx.json.id}`);
        return r.json.state === 'running' || r.json.state === 'lost' ? undefined : r.json;
      },
      30_000,
      'the restarted platform to settle the sandbox',
    );
    assert.equal(s.state, 'killed', JSON.stringify(s));
    assert.equal(s.exit.reason, 'timeout', JSON.stringify(s));
  } finally {
    await stop(first, 'SIGKILL');
    await stop(second, 'SIGTERM');
    await new Runtime({ stateDir: join(dataDir, 'runtime'), templateDir: join(dataDir, 'templates') })
      .cleanupOrphans()
      .catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a stopped platform whose data dir is removed leaves nothing once another starts; a live one keeps its sandboxes', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const before = await snapshotHost();
  const removed = await mkdtemp(join(tmpdir(), 'tt-restart-'));
  const other = await mkdtemp(join(tmpdir(), 'tt-restart-'));
  const live = await mkdtemp(join(tmpdir(), 'tt-restart-'));
  let first: ChildProcess | undefined;
  let second: ChildProcess | undefined;
  let third: ChildProcess | undefined;
  try {
    const c = await startChild(live);
    third = c.child;
    const liveKey = c.adminKey ?? '';
    const kept = await call(c.url, liveKey, 'POST', '/v1/sandboxes', { body: {} });
    assert.equal(kept.status, 201, kept.text);
    const a = await startChild(removed);
    first = a.child;
    const sbx = await call(a.url, a.adminKey ?? '', 'POST', '/v1/sandboxes', { body: {} });
    assert.equal(sbx.status, 201, sbx.text);
    await stop(first, 'SIGKILL');
    await rm(removed, { recursive: true, force: true });
    // Another platform on this host, on another data dir: its start removes the orphan.
    const b = await startChild(other);
    second = b.child;
    await stop(second, 'SIGTERM');
    // The live platform's sandbox was not touched by the other's start.
    const exec = await call(c.url, liveKey, 'POST', `/v1/sandboxes/${kept.json.id}/exec`, { body: { argv: ['echo', 'untouched'] } });
    assert.equal(exec.json.stdout, 'untouched\n', exec.text);
    assert.equal((await call(c.url, liveKey, 'DELETE', `/v1/sandboxes/${kept.json.id}`)).status, 200);
    // The orphan is gone: no process, cgroup, mount or temp dir of it is left.
    await assertNoLeaks(before, { path: removed });
    await assertNoLeaks(before, { path: other });
  } finally {
    await stop(first, 'SIGKILL');
    await stop(second, 'SIGTERM');
    await stop(third, 'SIGTERM');
    await new Runtime({ stateDir: join(live, 'runtime'), templateDir: join(live, 'templates') })
      .cleanupOrphans()
      .catch(() => undefined);
    await rm(removed, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
    await rm(live, { recursive: true, force: true });
  }
});
