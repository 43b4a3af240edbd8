/**
 * Retention through a real server (real SQLite, real HTTP, the real sweeper): once a run ended
 * longer ago than `runLogRetentionMs`, its logs answer 410 Gone saying why, while the run and its
 * result stay; audit entries older than `auditRetentionMs` are gone from the audit log. The
 * store's clock is moved instead of waiting days.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRun } from '@tartarus/core';
import { bootstrap } from '../bootstrap.js';
import { BOOTSTRAP_TENANT_ID as TENANT } from '../http/auth.js';
import { startServer, type ServerHandle } from '../server.js';
import { openStore, type Store } from '../store/index.js';

const DAY = 86_400_000;

/** A run of the bootstrap tenant that printed `hello` and exited 0, reported as an agent would. */
async function finishedRun(store: Store): Promise<string> {
  const node = await store.nodes.register({
    name: 'n',
    runtimes: ['container'],
    capacity: { cpu: 1, memoryMiB: 1024, slots: 4 },
  });
  const { run } = await store.runs.submit(TENANT, compileRun({ argv: ['echo', 'hello'] }, null));
  const lease = await store.queue.leaseRun(run.id, node.id, 60_000);
  assert.ok(lease);
  assert.ok(await store.queue.confirmStart(run.id, lease.epoch, node.id, 60_000));
  const chunk = { stream: 'stdout' as const, data: 'hello\n' };
  assert.ok(await store.runs.appendLogs(run.id, lease.epoch, node.id, [chunk]));
  assert.ok(await store.queue.completeAttempt(run.id, lease.epoch, node.id, { exitCode: 0 }));
  return run.id;
}

/** Polls `fn` every 50 ms until it returns true, for up to 10 s. */
async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('retention: expired run logs answer 410 Gone, the run stays; old audit entries are deleted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tt-retention-'));
  let now = Date.now();
  const store = await openStore({
    backend: 'sqlite',
    path: join(dir, 'db.sqlite'),
    clock: () => now,
  });
  let server: ServerHandle | undefined;
  try {
    const { adminKey } = await bootstrap(store, dir);
    const runId = await finishedRun(store);
    await store.audit.append({ tenantId: TENANT, action: 'old.entry' });
    assert.equal((await store.runs.readLogs(TENANT, runId)).length, 1);
    now += 8 * DAY;
    await store.audit.append({ tenantId: TENANT, action: 'recent.entry' });
    server = await startServer({
      store,
      // Logs at the default 7 days; audit entries kept 5 days here.
      config: { port: 0, sweepIntervalMs: 20, auditRetentionMs: 5 * DAY },
    });
    const url = server.url;
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(url + path, {
        headers: { authorization: `Bearer ${adminKey}`, ...headers },
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };

    await until(async () => (await get(`/v1/runs/${runId}/logs`)).status === 410, 'logs to expire');
    const gone = await get(`/v1/runs/${runId}/logs`);
    assert.equal(gone.json.error.code, 'gone');
    assert.match(
      gone.json.error.message,
      new RegExp(
        `logs of run ${runId} expired .* keeps run output for 7 days after a run ends .*runLogRetentionMs`,
      ),
    );
    const follow = await get(`/v1/runs/${runId}/logs?follow=true`, { accept: 'text/event-stream' });
    assert.equal(follow.status, 410);
    const run = await get(`/v1/runs/${runId}?output=true`);
    assert.equal(run.status, 200);
    assert.deepEqual([run.json.state, run.json.exitCode, run.json.stdout], ['succeeded', 0, '']);
    assert.equal(run.json.logsExpiredAt, new Date(now).toISOString());

    const actions = (await get('/v1/audit?limit=500')).json.items.map(
      (e: { action: string }) => e.action,
    );
    assert.ok(actions.includes('recent.entry'), actions.join());
    assert.ok(!actions.includes('old.entry'), actions.join());
  } finally {
    await server?.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
