// Runs, admin resources and error mapping against a real embedded server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidArgumentError,
  NotFoundError,
  Tartarus,
  UnauthenticatedError,
  UnavailableError,
} from './index.js';
import { serverSkipReason, startTestServer, type TestServer } from './test-server.js';

const skip = serverSkipReason();

describe('runs and administration against an embedded server', { skip }, () => {
  let server: TestServer;
  let client: Tartarus;
  before(async () => {
    server = await startTestServer();
    client = new Tartarus({ url: server.url, apiKey: server.adminKey });
  });
  after(async () => {
    await server?.close();
  });

  test('submit({wait}) returns the final run with its output', async () => {
    const run = await client.runs.submit(
      { command: 'echo hello; echo oops >&2; exit 4' },
      { wait: true },
    );
    assert.equal(run.state, 'failed');
    assert.equal(run.exitCode, 4);
    assert.equal(run.stdout, 'hello\n');
    assert.equal(run.stderr, 'oops\n');
  });

  test('followLogs streams output and returns the final state; wait() gives the result', async () => {
    const queued = await client.runs.submit({
      argv: ['sh', '-c', 'for i in 1 2 3; do echo line$i; done'],
    });
    let text = '';
    const logs = client.runs.followLogs(queued.id);
    let step = await logs.next();
    for (; !step.done; step = await logs.next()) text += step.value.data;
    assert.equal(step.value, 'succeeded');
    assert.equal(text, 'line1\nline2\nline3\n');
    const done = await client.runs.wait(queued.id);
    assert.equal(done.exitCode, 0);
    assert.equal(done.stdout, 'line1\nline2\nline3\n');
    assert.ok((await client.runs.list()).items.some((r) => r.id === queued.id));
    assert.ok((await client.runs.attempts(queued.id)).length >= 1);
  });

  test('an idempotency key returns the first run', async () => {
    const a = await client.runs.submit({ argv: ['true'] }, { idempotencyKey: 'sdk-test-key' });
    const b = await client.runs.submit({ argv: ['true'] }, { idempotencyKey: 'sdk-test-key' });
    assert.equal(b.id, a.id);
    await client.runs.wait(a.id);
  });

  test('errors are typed: not found, bad argument (with a message), bad key, no server', async () => {
    await assert.rejects(client.runs.get('run_doesnotexist'), NotFoundError);
    await assert.rejects(
      client.runs.submit({ argv: ['true'], timeoutMs: 5 }),
      (e: unknown) => e instanceof InvalidArgumentError && /timeoutMs/.test(e.message),
    );
    await assert.rejects(
      new Tartarus({ url: server.url, apiKey: 'tt_wrong' }).runs.list(),
      UnauthenticatedError,
    );
    await assert.rejects(
      new Tartarus({ url: 'http://127.0.0.1:9', apiKey: 'x' }).runs.list(),
      UnavailableError,
    );
  });

  test('templates, nodes, keys and tenants', async () => {
    assert.ok((await client.templates.list()).some((t) => t.name === 'busybox'));
    // busybox is already built here: the stream may hold only `done`, no progress.
    const built = await client.templates.build('busybox', { onProgress: () => undefined });
    assert.equal(built.built, true);
    await assert.rejects(
      client.templates.build('nope'),
      (e: unknown) => e instanceof InvalidArgumentError && /nope/.test(e.message),
    );
    const nodes = await client.nodes.list();
    assert.ok(nodes.length >= 1 && nodes.some((n) => n.status === 'up'));
    const key = await client.apiKeys.create({ name: 'sdk-test', role: 'viewer' });
    assert.ok(key.secret.length > 10);
    const viewer = new Tartarus({ url: server.url, apiKey: key.secret });
    await viewer.runs.list();
    assert.ok((await client.apiKeys.list()).some((k) => k.id === key.id));
    await client.apiKeys.revoke(key.id);
    await assert.rejects(viewer.runs.list(), UnauthenticatedError);
    const tenant = await client.tenants.create({ name: 'sdk-test-tenant', maxQueuedRuns: 5 });
    assert.equal((await client.tenants.get(tenant.id)).maxQueuedRuns, 5);
    assert.equal(
      (await client.tenants.update(tenant.id, { maxConcurrentSandboxes: 2 }))
        .maxConcurrentSandboxes,
      2,
    );
    assert.ok((await client.tenants.list()).some((t) => t.id === tenant.id));
    assert.equal(tenant.maxSnapshotBytes, null, "the server's");
    assert.equal((await client.tenants.update(tenant.id, { maxSnapshotBytes: 1024 ** 3 })).maxSnapshotBytes, 1024 ** 3);
    await assert.rejects(client.tenants.update(tenant.id, { maxSnapshotBytes: 0 }), InvalidArgumentError);
    assert.equal(await client.healthy(), true);
  });
});

describe('the module-level runs helper', { skip }, () => {
  test('reads TARTARUS_URL and TARTARUS_API_KEY at its first call', async () => {
    const server = await startTestServer();
    try {
      process.env.TARTARUS_URL = server.url;
      process.env.TARTARUS_API_KEY = server.adminKey;
      const { runs } = await import('./index.js');
      const run = await runs.submit({ argv: ['echo', 'env'] }, { wait: true });
      assert.equal(run.stdout, 'env\n');
      assert.equal((await runs.wait(run.id)).state, 'succeeded');
    } finally {
      delete process.env.TARTARUS_URL;
      delete process.env.TARTARUS_API_KEY;
      await server.close();
    }
  });
});
