/**
 * Egress policies through the API, end to end (real server, agent, runc, nftables), against a
 * "remote host" the test makes (a network namespace on 198.18.0.0/29; nothing leaves the machine):
 * a sandbox reaches it by default and a run does not; an allow list allows exactly its entries;
 * `PUT /v1/sandboxes/:id/egress` changes a running sandbox's policy; named network policies are
 * stored and used by name; a tenant's maxEgress refuses more with a 400 naming the entry; bad
 * input is a 4xx naming what to change. Then a control plane on the remote host (the server in its
 * namespace, the agent here): a sandbox with egress `all` reaches the remote host but not the
 * server's port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, RuntimeAdapter, agentNetworkOptions } from '@tartarus/agent';
import { Runtime } from '@tartarus/runtime';
import {
  httpGet,
  REMOTE_ADDRESS,
  REMOTE_OTHER_ADDRESS,
  startRemoteHost,
  testTemplateDir,
  type RemoteHost,
} from '@tartarus/runtime/testing';
import { bootstrap, openStore } from '@tartarus/server';
import { call, containerSkipReason, eventually, withEmbedded, type Reply } from './helpers.js';

const R8080 = `${REMOTE_ADDRESS}:8080`;
const R8081 = `${REMOTE_ADDRESS}:8081`;
const OTHER8080 = `${REMOTE_OTHER_ADDRESS}:8080`;

let remote: RemoteHost | undefined;
let skip: string | undefined;

before(async () => {
  skip = await containerSkipReason();
  if (!skip && spawnSync('nft', ['--version']).status !== 0)
    skip = 'nft is not installed (scripts/setup.sh installs nftables)';
  if (!skip) remote = await startRemoteHost();
});
after(async () => {
  await remote?.close();
});

type Api = (method: string, path: string, body?: unknown) => Promise<Reply>;

/**
 * A shell command printing the body `host:port` answers to an HTTP GET (busybox nc, 2 s timeout,
 * three tries: see expectProbe; the test servers' bodies have no newline, so the last line is the
 * body), exit 1 when nothing came.
 */
function fetchCmd(target: string): string {
  return `for i in 1 2 3; do out=$(${bodyCmd(target)}); [ -n "$out" ] && break; done; echo "$out"; [ -n "$out" ]`;
}

function bodyCmd(target: string): string {
  const [host = '', port = ''] = target.split(':');
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} ${port} 2>/dev/null | tail -n 1`;
}

/** What each `host:port` answers from inside the sandbox: its body, or `blocked`. */
async function probe(
  A: Api,
  sandboxId: string,
  targets: string[],
): Promise<Record<string, string>> {
  const script = targets.map((t) => `r=$(${bodyCmd(t)}); echo "${t} \${r:-blocked}"`).join('\n');
  const r = await A('POST', `/v1/sandboxes/${sandboxId}/exec`, { command: script });
  assert.equal(r.status, 200, r.text);
  return Object.fromEntries(
    (r.json.stdout as string)
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]),
  );
}

/**
 * Probes `expected`'s targets from inside the sandbox and asserts the answers. A target expected to
 * answer that did not within nc's 2 s is tried twice more (one connection can be slow on a loaded
 * 2-core machine, and a server just started in another sandbox may not listen yet); a target the
 * rules drop stays dropped however often it is tried, and an answer where `blocked` is expected
 * fails at once.
 */
async function expectProbe(A: Api, sandboxId: string, expected: Record<string, string>): Promise<void> {
  const got = await probe(A, sandboxId, Object.keys(expected));
  for (let attempt = 0; attempt < 2; attempt++) {
    const slow = Object.keys(expected).filter((k) => expected[k] !== 'blocked' && got[k] === 'blocked');
    if (slow.length === 0) break;
    console.log(`# probe: ${slow.join(', ')} did not answer within 2 s; trying again`);
    Object.assign(got, await probe(A, sandboxId, slow));
  }
  assert.deepEqual(got, expected);
}

/** A sandbox created with `body`; its id. */
async function sandbox(A: Api, body: unknown): Promise<{ id: string; egress: unknown }> {
  const r = await A('POST', '/v1/sandboxes', body);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

function api(url: string, key: string): Api {
  return (method, path, body) => call(url, key, method, path, body === undefined ? {} : { body });
}

test('egress through the API: defaults, allow lists, changes while running, policies by name, tenant limits, bad input', async (t) => {
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const A = api(h.url, h.adminKey);

    await t.test('a sandbox reaches the remote host by default; a run does not', async () => {
      const s = await sandbox(A, {});
      assert.equal(s.egress, 'all');
      await expectProbe(A, s.id, {
        [R8080]: 'remote 8080',
        [OTHER8080]: 'remote 8080',
      });
      const run = await A('POST', '/v1/runs?wait=60s', { command: fetchCmd(R8080) });
      assert.deepEqual([run.json.state, run.json.egress], ['failed', 'none'], run.text);
      assert.equal(run.json.stdout, '\n');
      const allowed = await A('POST', '/v1/runs?wait=60s', {
        command: fetchCmd(R8080),
        egress: [R8080],
      });
      assert.deepEqual(
        [allowed.json.state, allowed.json.stdout, allowed.json.egress],
        ['succeeded', 'remote 8080\n', [R8080]],
        allowed.text,
      );
    });

    let listed = '';
    await t.test(
      'an allow list allows exactly its entries; the policy changes while the sandbox runs',
      async () => {
        const s = await sandbox(A, { egress: [R8081] });
        listed = s.id;
        assert.deepEqual(s.egress, [R8081]);
        await expectProbe(A, s.id, {
          [R8081]: 'remote 8081',
          [R8080]: 'blocked',
          [OTHER8080]: 'blocked',
        });
        const put = await A('PUT', `/v1/sandboxes/${s.id}/egress`, {
          egress: [`${REMOTE_OTHER_ADDRESS}/32`],
        });
        assert.equal(put.status, 200, put.text);
        assert.deepEqual(put.json.egress, [`${REMOTE_OTHER_ADDRESS}/32`]);
        assert.deepEqual((await A('GET', `/v1/sandboxes/${s.id}`)).json.egress, [
          `${REMOTE_OTHER_ADDRESS}/32`,
        ]);
        await expectProbe(A, s.id, {
          [R8081]: 'blocked',
          [OTHER8080]: 'remote 8080',
        });
        // Cut off, then back: a networked sandbox keeps its interface.
        assert.equal(
          (await A('PUT', `/v1/sandboxes/${s.id}/egress`, { egress: 'none' })).status,
          200,
        );
        await expectProbe(A, s.id, { [OTHER8080]: 'blocked' });
        assert.equal(
          (await A('PUT', `/v1/sandboxes/${s.id}/egress`, { egress: 'all' })).status,
          200,
        );
        await expectProbe(A, s.id, { [R8080]: 'remote 8080' });
      },
    );

    await t.test(
      'a sandbox created with none, or not running, cannot change; an unknown one is 404',
      async () => {
        const lo = await sandbox(A, { egress: 'none' });
        const put = await A('PUT', `/v1/sandboxes/${lo.id}/egress`, { egress: 'all' });
        assert.equal(put.status, 409, put.text);
        assert.match(put.json.error.message, /created with egress "none"/);
        await expectProbe(A, lo.id, { [R8080]: 'blocked' });
        assert.equal((await A('DELETE', `/v1/sandboxes/${listed}`)).status, 200);
        const ended = await A('PUT', `/v1/sandboxes/${listed}/egress`, { egress: 'all' });
        assert.equal(ended.status, 409, ended.text);
        assert.match(
          ended.json.error.message,
          /is killed: only a running or paused sandbox's egress can change/,
        );
        assert.equal(
          (await A('PUT', '/v1/sandboxes/sbx_nope/egress', { egress: 'all' })).status,
          404,
        );
      },
    );

    await t.test("a tenant's named network group: its members reach each other, nobody else does", async () => {
      const a = await sandbox(A, { egress: [R8081], networkGroup: 'web' });
      const b = await sandbox(A, { egress: [R8081], networkGroup: 'web' });
      const other = await sandbox(A, {});
      assert.equal((a as { networkGroup?: unknown }).networkGroup, 'web', 'shown as the tenant named it');
      const serve = await A('POST', `/v1/sandboxes/${a.id}/exec`, {
        command: 'setsid sh -c "while true; do echo member | nc -l -p 9000; done" >/dev/null 2>&1 &',
      });
      assert.equal(serve.json.exitCode, 0, serve.text);
      const addr = await A('POST', `/v1/sandboxes/${a.id}/exec`, { command: "ip -4 addr show eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p'" });
      const target = `${(addr.json.stdout as string).trim()}:9000`;
      await expectProbe(A, b.id, { [target]: 'member' });
      await expectProbe(A, other.id, { [target]: 'blocked' });
      const lo = await A('POST', '/v1/sandboxes', { egress: 'none', networkGroup: 'web' });
      assert.equal(lo.status, 400, lo.text);
      assert.match(lo.json.error.message, /networkGroup "web" needs a network/);
      for (const s of [a, b, other]) await A('DELETE', `/v1/sandboxes/${s.id}`);
    });

    await t.test('bad egress is a 400 naming the entry, never a 500', async () => {
      const cases: [string, string, unknown, RegExp][] = [
        [
          'POST',
          '/v1/sandboxes',
          { egress: ['10.0.0.1/8'] },
          /egress entry "10\.0\.0\.1\/8" has host bits set: write 10\.0\.0\.0\/8/,
        ],
        ['POST', '/v1/sandboxes', { egress: 'some' }, /egress must be "none", "all", or a list/],
        [
          'POST',
          '/v1/sandboxes',
          { egress: [] },
          /egress lists no destination: give at least one, or "none" or "all"/,
        ],
        [
          'POST',
          '/v1/runs',
          { argv: ['true'], egress: ['pypi.org:99999'] },
          /"pypi\.org:99999" has a bad port/,
        ],
        [
          'PUT',
          `/v1/sandboxes/${listed}/egress`,
          { egress: ['[::1]:80'] },
          /IPv6 egress rules are not supported/,
        ],
        ['PUT', `/v1/sandboxes/${listed}/egress`, {}, /egress/],
        [
          'POST',
          '/v1/sandboxes',
          { egress: 'all', networkPolicy: 'web' },
          /at most one of egress .* and networkPolicy/,
        ],
        ['POST', '/v1/sandboxes', { networkPolicy: 'nope' }, /networkPolicy "nope" does not exist/],
        [
          'POST',
          '/v1/network-policies',
          { name: 'Bad Name', egress: 'all' },
          /network policy names use lowercase/,
        ],
      ];
      for (const [method, path, body, says] of cases) {
        const r = await A(method, path, body);
        assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
        assert.match(r.json.error.message, says);
      }
    });

    await t.test(
      'network policies: create, list, get, use by name (sandbox and run), delete',
      async () => {
        const created = await A('POST', '/v1/network-policies', {
          name: 'remote-8081',
          egress: [R8081],
          description: 'the remote test server',
        });
        assert.equal(created.status, 201, created.text);
        assert.deepEqual(
          [created.json.name, created.json.egress, created.json.description],
          ['remote-8081', [R8081], 'the remote test server'],
        );
        assert.equal(
          (await A('POST', '/v1/network-policies', { name: 'remote-8081', egress: 'none' })).status,
          409,
        );
        assert.equal(
          (await A('POST', '/v1/network-policies', { name: 'open', egress: 'all' })).status,
          201,
        );
        assert.deepEqual(
          (await A('GET', '/v1/network-policies')).json.items.map((p: { name: string }) => p.name),
          ['open', 'remote-8081'],
        );
        assert.deepEqual((await A('GET', '/v1/network-policies/remote-8081')).json.egress, [R8081]);

        const s = await sandbox(A, { networkPolicy: 'remote-8081' });
        assert.deepEqual(s.egress, [R8081]);
        await expectProbe(A, s.id, {
          [R8081]: 'remote 8081',
          [R8080]: 'blocked',
        });
        const run = await A('POST', '/v1/runs?wait=60s', {
          command: fetchCmd(R8081),
          networkPolicy: 'remote-8081',
        });
        assert.deepEqual(
          [run.json.state, run.json.stdout],
          ['succeeded', 'remote 8081\n'],
          run.text,
        );

        assert.equal((await A('DELETE', '/v1/network-policies/remote-8081')).status, 200);
        assert.equal((await A('GET', '/v1/network-policies/remote-8081')).status, 404);
        assert.equal((await A('DELETE', '/v1/network-policies/remote-8081')).status, 404);
        // The sandbox keeps the egress it was created with.
        assert.deepEqual((await A('GET', `/v1/sandboxes/${s.id}`)).json.egress, [R8081]);
      },
    );

    await t.test(
      "a tenant's maxEgress refuses more with a 400 naming the entry; its defaults stay within it",
      async () => {
        const tenant = (await A('POST', '/v1/tenants', { name: 'limited' })).json;
        const key = (
          await A('POST', '/v1/api-keys', { name: 'k', role: 'admin', tenantId: tenant.id })
        ).json.secret as string;
        const patch = await A('PATCH', `/v1/tenants/${tenant.id}`, {
          maxEgress: ['198.18.0.0/29:8080'],
        });
        assert.deepEqual(patch.json.maxEgress, ['198.18.0.0/29:8080'], patch.text);
        const bad = await A('PATCH', `/v1/tenants/${tenant.id}`, { defaultRunEgress: 'all' });
        assert.equal(bad.status, 400, bad.text);
        assert.match(
          bad.json.error.message,
          /defaultRunEgress "all" is more than maxEgress \["198\.18\.0\.0\/29:8080"\] allows/,
        );

        const L = api(h.url, key);
        const all = await L('POST', '/v1/sandboxes', { egress: 'all' });
        assert.equal(all.status, 400, all.text);
        assert.match(
          all.json.error.message,
          /egress "all" is more than this tenant's maxEgress \["198\.18\.0\.0\/29:8080"\] allows/,
        );
        const port = await L('POST', '/v1/runs', { argv: ['true'], egress: [R8081] });
        assert.equal(port.status, 400, port.text);
        assert.match(
          port.json.error.message,
          new RegExp(`egress entry "${R8081.replaceAll('.', '\\.')}" is more than`),
        );
        const policy = await L('POST', '/v1/network-policies', {
          name: 'wide',
          egress: ['198.18.0.0/24:8080'],
        });
        assert.equal(policy.status, 400, policy.text);
        assert.match(
          policy.json.error.message,
          /network policy "wide" entry "198\.18\.0\.0\/24:8080" is more than/,
        );

        // No egress given: the platform's `all`, cut down to the maximum.
        const s = await sandbox(L, {});
        assert.deepEqual(s.egress, ['198.18.0.0/29:8080']);
        await expectProbe(L, s.id, {
          [R8080]: 'remote 8080',
          [R8081]: 'blocked',
        });
        const widen = await L('PUT', `/v1/sandboxes/${s.id}/egress`, { egress: 'all' });
        assert.equal(widen.status, 400, widen.text);
        assert.equal(
          (await L('PUT', `/v1/sandboxes/${s.id}/egress`, { egress: [`${REMOTE_ADDRESS}:8080`] }))
            .status,
          200,
        );
        assert.equal((await L('DELETE', `/v1/sandboxes/${s.id}`)).status, 200);
      },
    );
  });
});

const CP_PORT = 9090;
const CP_TOKEN = 'e2e-network-agent-token-0123456789';

/** The control-plane server (`apps/server/dist/main.js`) in the remote host's namespace, on `REMOTE_ADDRESS:CP_PORT`. */
async function startRemoteServer(netns: string, storePath: string): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('../../../apps/server/dist/main.js', import.meta.url));
  const args = [
    'netns',
    'exec',
    netns,
    process.execPath,
    main,
    '--store',
    storePath,
    '--host',
    REMOTE_ADDRESS,
    '--port',
    String(CP_PORT),
    '--agent-token',
    CP_TOKEN,
  ];
  const child = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`the server exited: ${err}`);
      return (await httpGet(`http://${REMOTE_ADDRESS}:${CP_PORT}/healthz`)) === undefined
        ? undefined
        : true;
    },
    30_000,
    'the server in the remote namespace',
  );
  return child;
}

test("a sandbox with egress all never reaches the control plane's port (server on the remote host)", async (t) => {
  if (skip) return t.skip(skip);
  const netns = remote?.netns ?? '';
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-network-'));
  const store = await openStore({ backend: 'sqlite', path: join(dir, 'db.sqlite') });
  const { adminKey } = await bootstrap(store, dir);
  await store.close();
  let server: ChildProcess | undefined;
  let agent: Agent | undefined;
  let runtime: Runtime | undefined;
  try {
    server = await startRemoteServer(netns, join(dir, 'db.sqlite'));
    const serverUrl = `ws://${REMOTE_ADDRESS}:${CP_PORT}/v1/agent/connect`;
    runtime = new Runtime({
      stateDir: join(dir, 'runtime'),
      templateDir: testTemplateDir(),
      network: await agentNetworkOptions(serverUrl),
    });
    agent = new Agent(
      { serverUrl, token: CP_TOKEN, nodeId: 'node-net' },
      new RuntimeAdapter(runtime),
    );
    await agent.start();
    const A = api(`http://${REMOTE_ADDRESS}:${CP_PORT}`, adminKey ?? '');
    const s = await sandbox(A, { egress: 'all' });
    // The remote host is reachable; the control plane is not.
    await expectProbe(A, s.id, { [R8080]: 'remote 8080', [`${REMOTE_ADDRESS}:${CP_PORT}`]: 'blocked' });
    assert.ok(
      (await httpGet(`http://${REMOTE_ADDRESS}:${CP_PORT}/healthz`)) !== undefined,
      'the host reaches the control plane',
    );
    assert.equal((await A('DELETE', `/v1/sandboxes/${s.id}`)).status, 200);
  } finally {
    agent?.close();
    await agent?.release().catch(() => undefined);
    for (const info of (await runtime?.list().catch(() => [])) ?? [])
      await runtime?.destroy(info.runtime, info.id).catch(() => undefined);
    // The last networked sandbox is gone: the host's bridge and rules go with this close.
    await runtime?.close().catch(() => undefined);
    server?.kill('SIGTERM');
    if (server && server.exitCode === null) await new Promise((r) => server?.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
});
