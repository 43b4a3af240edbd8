/**
 * Webhook delivery survives a crash: the embedded platform (a child process) delivers the first
 * runs' events, then its receiver goes down and more runs finish; the platform is killed with
 * SIGKILL while those deliveries fail, started again on the same data dir, and the receiver comes
 * back on the same port. Every event arrives, none twice (counted by event id across both lives of
 * the receiver), and each run's events in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Runtime } from '@tartarus/runtime';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { Tartarus, type Run } from '@tartarus/sdk';
import { containerSkipReason, eventually } from './helpers.js';
import { startReceiver, type Received, type Receiver } from './webhook-receiver.js';

const CHILD = new URL('./fixtures/embedded-child.js', import.meta.url).pathname;

const OPTIONS = {
  templateDir: testTemplateDir(),
  server: { webhookAllowedDestinations: ['127.0.0.1/32'], webhookRetryBaseMs: 200, webhookRetryMaxMs: 500, webhookTimeoutMs: 15_000 },
};

async function startChild(dataDir: string): Promise<{ child: ChildProcess; url: string; adminKey: string | null }> {
  const child = spawn(process.execPath, [CHILD, dataDir, JSON.stringify(OPTIONS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`embedded child exited early with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; adminKey: string | null }) };
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

async function finishRuns(client: Tartarus, n: number): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < n; i++) runs.push(await client.runs.submit({ argv: ['echo', String(i)], template: 'busybox' }, { wait: true }));
  return runs;
}

test('webhook deliveries survive a kill -9: after the restart every event arrives, none twice', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const dataDir = await mkdtemp(join(tmpdir(), 'tt-webhooks-restart-'));
  const got: Received[] = [];
  let rx: Receiver | undefined;
  let first: ChildProcess | undefined;
  let second: ChildProcess | undefined;
  try {
    rx = await startReceiver();
    const port = rx.port;
    const a = await startChild(dataDir);
    first = a.child;
    const key = a.adminKey ?? '';
    const before = new Tartarus({ url: a.url, apiKey: key });
    const hook = await before.webhooks.create({ url: `${rx.url}/hook`, types: ['run.queued', 'run.finished'] });
    const early = await finishRuns(before, 2);
    await eventually(async () => (rx?.got.length === 4 ? true : undefined), 15_000, 'the first runs delivered');
    got.push(...rx.got);
    await rx.close();

    // The receiver is down: these deliveries fail and are retried until the kill.
    const late = await finishRuns(before, 3);
    await eventually(async () => ((await before.webhooks.deliveries(hook.id, { state: 'pending' })).items[0]?.attempts ?? 0) >= 2 ? true : undefined, 15_000, 'a failing delivery');
    await stop(first, 'SIGKILL');

    const b = await startChild(dataDir);
    second = b.child;
    rx = await startReceiver(() => 200, port);
    await eventually(async () => (rx?.got.length === 6 ? true : undefined), 30_000, 'the late runs delivered after the restart');
    // Nothing more comes: give a straggler the time of a few retries.
    await new Promise((r) => setTimeout(r, 1500));
    got.push(...rx.got);

    const ids = got.map((r) => r.body.id);
    assert.equal(new Set(ids).size, ids.length, `no event twice: ${ids.join(' ')}`);
    assert.equal(ids.length, 10);
    for (const run of [...early, ...late])
      assert.deepEqual(got.filter((r) => r.body.objectId === run.id).map((r) => r.body.type), ['run.queued', 'run.finished'], run.id);
    const after = new Tartarus({ url: b.url, apiKey: key });
    const log = (await after.webhooks.deliveries(hook.id)).items;
    assert.deepEqual(log.map((d) => d.state), Array<string>(10).fill('succeeded'));
    assert.ok(log.some((d) => d.attempts >= 3), 'the delivery that failed before the kill was attempted again after it');
  } finally {
    await rx?.close();
    await stop(first, 'SIGKILL');
    await stop(second, 'SIGTERM');
    await new Runtime({ stateDir: join(dataDir, 'runtime'), templateDir: join(dataDir, 'templates') }).cleanupOrphans().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
});
