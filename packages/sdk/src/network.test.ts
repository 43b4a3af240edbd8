// Egress and network policies through the SDK, against a real embedded server (busybox, runc).
// What the policies let through is the e2e network test's (it makes a remote host); here: the
// calls, the shapes, and the typed errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidArgumentError, NotFoundError, Sandbox, Tartarus } from './index.js';
import { serverSkipReason, startTestServer, type TestServer } from './test-server.js';

const skip = serverSkipReason();

describe('egress and network policies against an embedded server', { skip }, () => {
  let server: TestServer;
  let client: Tartarus;
  before(async () => {
    server = await startTestServer();
    client = new Tartarus({ url: server.url, apiKey: server.adminKey });
  });
  after(async () => {
    await server?.close();
  });

  test('Sandbox.create takes egress; setEgress changes it; a none sandbox cannot change', async () => {
    const sbx = await Sandbox.create({
      url: server.url,
      apiKey: server.adminKey,
      egress: ['10.0.0.0/8:443'],
    });
    const lo = await client.sandboxes.create({ egress: 'none' });
    try {
      assert.deepEqual(sbx.info.egress, ['10.0.0.0/8:443']);
      assert.equal((await sbx.setEgress('all')).egress, 'all');
      assert.equal(sbx.info.egress, 'all');
      await assert.rejects(
        sbx.setEgress(['10.0.0.1/8']),
        (e: unknown) => e instanceof InvalidArgumentError && /host bits set/.test(e.message),
      );
      await assert.rejects(
        lo.setEgress('all'),
        (e: unknown) => e instanceof ConflictError && /created with egress "none"/.test(e.message),
      );
      assert.equal((await client.sandboxes.create({})).info.egress, 'all');
    } finally {
      await Promise.all([sbx.kill(), lo.kill()]);
    }
  });

  test('networkPolicies: create, list, get, use by name, delete', async () => {
    const p = await client.networkPolicies.create({
      name: 'intranet',
      egress: ['10.0.0.0/8'],
      description: 'inside only',
    });
    assert.deepEqual(
      [p.name, p.egress, p.description],
      ['intranet', ['10.0.0.0/8'], 'inside only'],
    );
    await assert.rejects(
      client.networkPolicies.create({ name: 'intranet', egress: 'none' }),
      ConflictError,
    );
    assert.deepEqual(
      (await client.networkPolicies.list()).map((x) => x.name),
      ['intranet'],
    );
    assert.deepEqual((await client.networkPolicies.get('intranet')).egress, ['10.0.0.0/8']);
    const sbx = await client.sandboxes.create({ networkPolicy: 'intranet' });
    try {
      assert.deepEqual(sbx.info.egress, ['10.0.0.0/8']);
    } finally {
      await sbx.kill();
    }
    const run = await client.runs.submit(
      { argv: ['true'], networkPolicy: 'intranet' },
      { wait: true },
    );
    assert.deepEqual([run.state, run.egress], ['succeeded', ['10.0.0.0/8']]);
    assert.equal((await client.runs.submit({ argv: ['true'] }, { wait: true })).egress, 'none');
    await assert.rejects(
      client.runs.submit({ argv: ['true'], networkPolicy: 'nope' }),
      (e: unknown) => e instanceof InvalidArgumentError && /"nope" does not exist/.test(e.message),
    );
    await client.networkPolicies.delete('intranet');
    await assert.rejects(client.networkPolicies.get('intranet'), NotFoundError);
  });
});
