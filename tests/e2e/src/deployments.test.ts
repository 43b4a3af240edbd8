/**
 * Deployments end to end (real runc, the embedded platform): a ZLayer V1 spec with a two-replica
 * service, a job and a cron service. Replicas run; a replica whose process is killed on the host is
 * seen and replaced; scaling; a new revision replaces the replicas one by one; a job trigger
 * returns its output, exit code and duration; a cron service every 2 s runs once per tick; a
 * service whose policy is `shutdown` stays down after a failure; `$E:` is resolved from the
 * deploying environment and a missing one is a 400 naming it; stop and remove.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { Tartarus } from '@tartarus/sdk';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

const SPEC = (greeting: string): string => `version: v1
deployment: shop
services:
  web:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["echo $GREETING; while true; do sleep 1; done"]
    env:
      GREETING: ${greeting}
    scale:
      mode: fixed
      replicas: 2
  report:
    rtype: job
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["echo report for $TEAM; exit 3"]
    env:
      TEAM: $E:TEAM
  tick:
    rtype: cron
    schedule: "*/2 * * * * *"
    image:
      name: template:busybox
    command:
      entrypoint: ["true"]
  checked:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["touch /tmp/ok; while true; do sleep 1; done"]
    health:
      start_grace: 1s
      interval: 1s
      timeout: 2s
      retries: 2
      check:
        type: command
        command: test -f /tmp/ok
  fragile:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["exit 1"]
    errors:
      on_panic:
        action: shutdown
`;

/** The host pid of a run's service process, found by its command line and cgroup. */
function replicaPid(runId: string, marker: string): number {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker) && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(runId)) return Number(pid);
    } catch {
      continue;
    }
  }
  throw new Error(`no process of ${runId} found`);
}

/** Kills the main process of a run's sandbox on the host, as a crash would. */
function killReplica(runId: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    // The service's own shell inside the sandbox: `sh -c echo $GREETING; while true…`.
    if (cmd.includes('while true; do sleep 1; done') && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(runId)) {
      process.kill(Number(pid), 'SIGKILL');
      return;
    }
  }
  throw new Error(`no process of ${runId} found`);
}

test('deployments: replicas kept, repaired, scaled and rolled; jobs, cron, shutdown policy, $E:', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
      const missing = await call(h.url, h.adminKey, 'POST', '/v1/deployments', { body: { spec: SPEC('hi'), file: 'shop.yaml' } });
      assert.equal(missing.status, 400);
      assert.match(missing.json.error.message, /TEAM/);
      assert.match(missing.json.error.message, /services\.report\.env\.TEAM/);

      const d = await client.deployments.apply(SPEC('hi'), { env: { TEAM: 'blue' }, file: 'shop.yaml' });
      assert.equal(d.revision, 1);
      let seen: unknown = [];
      const running = (n: number, rev?: number) =>
        eventually(async () => {
          const live = await client.deployments.runs('shop', { service: 'web', live: true });
          seen = await client.deployments.runs('shop', { service: 'web' });
          const ok = live.filter((r) => r.state === 'running' && (rev === undefined || r.revision === rev));
          return ok.length === n && live.length === n ? live : undefined;
        }, 60_000, `${n} web replicas running`).catch((err: Error) => {
          throw new Error(`${err.message}: ${JSON.stringify(seen)}`);
        });
      const first = await running(2);

      // A crashed replica is replaced.
      killReplica(first[0]?.runId ?? '');
      await eventually(async () => {
        const live = await client.deployments.runs('shop', { service: 'web', live: true });
        return live.length === 2 && !live.some((r) => r.runId === first[0]?.runId) && live.every((r) => r.state === 'running') ? true : undefined;
      }, 30_000, 'the killed replica replaced');

      // A job: its output, exit code and duration.
      const job = await client.deployments.trigger('shop', 'report');
      assert.deepEqual([job.state, job.exitCode, job.logs], ['failed', 3, 'report for blue\n']);
      assert.ok((job.durationMs ?? -1) >= 0);

      // Cron every 2 s: one run per tick.
      const ticks = await eventually(async () => {
        const runs = await client.deployments.runs('shop', { service: 'tick' });
        return runs.length >= 3 ? runs : undefined;
      }, 20_000, 'three cron ticks');
      const at = ticks.map((r) => Date.parse(r.tick ?? ''));
      assert.equal(new Set(at).size, at.length, 'never twice for one tick');
      assert.ok(at.every((x) => x % 2000 === 0), 'on the schedule');

      // Health: the checked replica turns healthy; when its check starts failing it is replaced.
      const [checked] = await eventually(async () => {
        const live = await client.deployments.runs('shop', { service: 'checked', live: true });
        return live[0]?.health === 'healthy' ? live : undefined;
      }, 30_000, 'the checked replica healthy');
      assert.equal((await client.deployments.get('shop')).services.find((s) => s.name === 'checked')?.healthy, 1);
      // Its check file goes away (through the process's own root, from the host).
      unlinkSync(`/proc/${replicaPid(checked?.runId ?? '', 'touch /tmp/ok')}/root/tmp/ok`);
      const after = await eventually(async () => {
        const all = await client.deployments.runs('shop', { service: 'checked' });
        const old = all.find((r) => r.runId === checked?.runId);
        const fresh = all.find((r) => r.runId !== checked?.runId && r.health === 'healthy');
        return old?.health === 'unhealthy' && old.state === 'cancelled' && fresh ? { old, fresh } : undefined;
      }, 30_000, 'the unhealthy replica replaced by a healthy one');
      assert.equal(after.old.endedAt !== null, true);

      // shutdown: the failed service is not restarted.
      const fragile = await eventually(async () => (await client.deployments.get('shop')).services.find((s) => s.name === 'fragile' && s.failed), 30_000, 'fragile failed');
      assert.equal(fragile.live, 0);
      assert.equal((await client.deployments.runs('shop', { service: 'fragile' })).length, 1, 'started once, never restarted');

      // Scale down and up again; then a new revision replaces the replicas one at a time.
      await client.deployments.scale('shop', 'web', 1);
      await running(1);
      await client.deployments.scale('shop', 'web', 2);
      await running(2);
      const r2 = await client.deployments.apply(SPEC('hello'), { env: { TEAM: 'blue' }, file: 'shop.yaml' });
      assert.equal(r2.revision, 2);
      const rolled = await running(2, 2);
      const [second, first2] = rolled;
      const byRun = async (id: string) => (await call(h.url, h.adminKey, 'GET', `/v1/runs/${id}`)).json;
      assert.ok(Date.parse(second?.createdAt ?? '') >= Date.parse((await byRun(first2?.runId ?? '')).startedAt), 'the second new replica started after the first ran');
      const logs = (await call(h.url, h.adminKey, 'GET', `/v1/runs/${second?.runId}/logs`)).json.items as { data: string }[];
      assert.equal(logs[0]?.data, 'hello\n');

      // Stop: every run ends; then it can be removed.
      await client.deployments.stop('shop');
      await eventually(async () => ((await client.deployments.get('shop')).state === 'stopped' ? true : undefined), 30_000, 'stopped');
      assert.deepEqual(await client.deployments.runs('shop', { live: true }), []);
      await client.deployments.remove('shop');
      assert.equal((await call(h.url, h.adminKey, 'GET', '/v1/deployments/shop')).status, 404);
    },
    { templateDir: testTemplateDir() },
  );
});

const CHAIN = `version: v1
deployment: chain
services:
  migrate:
    rtype: job
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["sleep 1; echo migrated"]
  db:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["sleep 2; touch /tmp/ready; while true; do sleep 1; done"]
    health:
      start_grace: 3s
      interval: 1s
      timeout: 2s
      retries: 1
      check:
        type: command
        command: test -f /tmp/ready
    depends:
      - service: migrate
        condition: healthy
  api:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["while true; do sleep 1; done"]
    depends:
      - service: db
        condition: healthy
`;

test('deployments: a depends chain starts in order, each service once the one before is healthy', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
      await client.deployments.apply(CHAIN, { file: 'chain.yaml' });
      const api = await eventually(async () => (await client.deployments.runs('chain', { service: 'api', live: true })).find((r) => r.state === 'running'), 30_000, 'api running').catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await client.deployments.runs('chain'))}`);
      });
      const [migrate] = await client.deployments.runs('chain', { service: 'migrate' });
      const [db] = await client.deployments.runs('chain', { service: 'db' });
      assert.equal(migrate?.state, 'succeeded', 'the job the chain waits on ran once, by itself');
      assert.ok(Date.parse(db?.createdAt ?? '') >= Date.parse(migrate?.endedAt ?? ''), 'db started after the job succeeded');
      const dbRun = (await call(h.url, h.adminKey, 'GET', `/v1/runs/${db?.runId}`)).json;
      assert.ok(Date.parse(api.createdAt) - Date.parse(dbRun.startedAt) >= 2000, 'api waited for db to be healthy (2 s after its start)');
      assert.equal((await client.deployments.runs('chain', { service: 'db' }))[0]?.health, 'healthy');
      await client.deployments.stop('chain');
      await eventually(async () => ((await client.deployments.get('chain')).state === 'stopped' ? true : undefined), 30_000, 'stopped');
    },
    { templateDir: testTemplateDir() },
  );
});
