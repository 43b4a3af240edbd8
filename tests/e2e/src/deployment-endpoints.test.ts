/**
 * A deployment's public endpoint through the server's proxy, end to end (real runc, an image from
 * a registry on loopback, busybox httpd as the service): two replicas with an HTTP health check
 * both answer through the endpoint's URL; a replica whose process is killed is replaced while
 * requests keep succeeding; a new revision rolls out with no failed request in a loop of requests
 * sent meanwhile; a revision that never becomes healthy is rolled back with the old replicas
 * serving throughout; a stop drains a slow request before the replica goes; an unknown address
 * is a 404 and a service with no replica a 503, both saying why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tartarus } from '@tartarus/sdk';
import { buildTestImage, pushTestImage, startRegistry, TEST_TMP_PREFIX, type TestRegistry } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

const START = `mkdir -p /tmp/www
echo "$VERSION $(cat /proc/sys/kernel/random/uuid)" > /tmp/www/index.html
ln -s /www/cgi-bin /tmp/www/cgi-bin
exec httpd -f -p 8080 -h /tmp/www`;
const DOMAIN = 'apps.tartarus.test';
const SLOW = '#!/bin/sh\nsleep 2\nprintf "Content-Type: text/plain\\r\\n\\r\\nslow done\\n"\n';

let registry: TestRegistry | undefined;
let dir: string | undefined;
let image = '';
let skip: string | undefined;

before(async () => {
  skip = await containerSkipReason();
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), `${TEST_TMP_PREFIX}deploy-ep-`));
  registry = await startRegistry();
  const layout = join(dir, 'layout');
  const link = { symlink: '/bin/busybox' };
  await buildTestImage(layout, 'web', {
    busybox: true,
    layers: [{ files: { '/bin/httpd': link, '/bin/mkdir': link, '/bin/ln': link, '/srv/start.sh': { mode: 0o755, content: START }, '/www/cgi-bin/slow': { mode: 0o755, content: SLOW } } }],
    config: { env: { PATH: '/bin' }, entrypoint: ['/bin/sh', '/srv/start.sh'] },
  });
  image = (await pushTestImage(layout, 'web', { ...registry, auth: undefined } as TestRegistry, 'shop/web:1')).ref;
});
after(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const spec = (version: string, command?: string): string => `version: v1
deployment: shop
services:
  web:
    rtype: service
    image:
      name: ${image}
${command === undefined ? '' : `    command:\n      entrypoint: ["sh", "-c"]\n      args: ["${command}"]\n`}    env:
      VERSION: ${version}
    endpoints:
      - name: http
        protocol: http
        port: 80
        target_port: 8080
        expose: public
    health:
      start_grace: 0s
      interval: 1s
      timeout: 2s
      retries: 2
      check:
        type: http
        url: http://localhost:8080/
    scale:
      mode: fixed
      replicas: 2
`;

/** GET `url`: status and body (a refused or reset connection is status 0). */
async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url);
    return { status: r.status, body: await r.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

/** GET / of `base` with Host `host` (fetch will not send another host than the URL's). */
function hostGet(base: string, host: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: '/', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Connections the proxy passed to deployments so far (its metrics). */
async function proxied(base: string): Promise<number> {
  const m = (await call(base, undefined, 'GET', '/metrics')).text;
  return Number(/^tartarus_proxy_connections_total\{how="deployment"\} (\d+)/m.exec(m)?.[1] ?? 0);
}

/** Sends requests one after another until `stop()` resolves; returns every answer. */
function loop(url: string): { stop(): Promise<{ status: number; body: string }[]> } {
  const answers: { status: number; body: string }[] = [];
  let running = true;
  const done = (async () => {
    while (running && answers.length < 5000) {
      answers.push(await get(url));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return answers;
    },
  };
}

/** Kills the httpd of a run's replica on the host, as a crash would. */
function killReplica(runId: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('httpd') && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(runId)) return void process.kill(Number(pid), 'SIGKILL');
    } catch {
      continue;
    }
  }
  throw new Error(`no httpd of ${runId} found`);
}

test('deployments: a public endpoint balanced over healthy replicas, repaired, rolled without failures, rolled back, drained', async (t) => {
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
    const applied = await client.deployments.apply(spec('v1'), { file: 'shop.yaml' });
    const endpoint = applied.endpoints.find((e) => e.name === 'http');
    assert.ok(endpoint?.url, JSON.stringify(applied.endpoints));
    assert.match(endpoint.url, /\/d\/shop--[0-9a-f]{8}\/$/);
    const url = endpoint.url;
    const healthy = (n: number, version: string) =>
      eventually(async () => {
        const d = await client.deployments.get('shop');
        const web = d.services.find((s) => s.name === 'web');
        if (d.revision < 1 || web?.healthy !== n || web.live !== n) return undefined;
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) seen.add((await get(url)).body);
        return [...seen].every((b) => b.startsWith(`${version} `)) && seen.size === n ? seen : undefined;
      }, 90_000, `${n} healthy replicas of ${version}`);

    // Both replicas answer through the one URL.
    const first = await healthy(2, 'v1');
    assert.equal(first.size, 2);
    // Host-routed too: <deployment>--<tag>.<proxyDomain>, every path.
    const label = /\/d\/(shop--[0-9a-f]{8})\//.exec(url)?.[1];
    assert.equal(endpoint.hostUrl, `http://${label}.${DOMAIN}:${new URL(h.url).port}/`);
    const byHost = await hostGet(h.url, `${label}.${DOMAIN}`);
    assert.equal(byHost.status, 200);
    assert.match(byHost.body, /^v1 /);

    // A replica's process is killed: requests keep succeeding, and it is replaced.
    const [victim] = await client.deployments.runs('shop', { service: 'web', live: true });
    assert.ok(victim);
    let traffic = loop(url);
    killReplica(victim.runId);
    await eventually(async () => ((await client.deployments.runs('shop', { service: 'web', live: true })).some((r) => r.runId === victim.runId) ? undefined : true), 30_000, 'the killed replica to end');
    await healthy(2, 'v1');
    let answers = await traffic.stop();
    assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'no request failed while a replica was replaced');

    // A rolling update: no request fails while the replicas are replaced one by one.
    traffic = loop(url);
    const v2 = await client.deployments.apply(spec('v2'), { file: 'shop.yaml' });
    assert.equal(v2.revision, 2);
    await healthy(2, 'v2');
    answers = await traffic.stop();
    assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'no request failed during the rolling update');
    assert.ok(answers.some((a) => a.body.startsWith('v1 ')) && answers.some((a) => a.body.startsWith('v2 ')), 'both revisions served during the update');

    // A revision whose replicas never become healthy is rolled back; v2 serves throughout.
    traffic = loop(url);
    await client.deployments.apply(spec('v3', 'exit 7'), { file: 'shop.yaml' });
    const rolled = await eventually(async () => {
      const d = await client.deployments.get('shop');
      return d.revision === 4 ? d : undefined;
    }, 60_000, 'the rollback');
    assert.equal(rolled.services.find((s) => s.name === 'web')?.healthy, 2);
    answers = await traffic.stop();
    assert.deepEqual(answers.filter((a) => a.status !== 200 || !a.body.startsWith('v2 ')), [], 'v2 served every request while v3 failed');
    const events = await client.deployments.events('shop', { types: ['deployment.rolled_back'] });
    assert.deepEqual(events.items.map((e) => [e.data.from, e.data.to, e.data.revision]), [[3, 2, 4]]);

    // A stop drains: a slow request in flight is answered before its replica goes.
    // The stop comes once the request is in flight (the proxy counted its connection), however slow the machine.
    const before = await proxied(h.url);
    const slow = get(`${url}cgi-bin/slow`);
    await eventually(async () => ((await proxied(h.url)) > before ? true : undefined), 30_000, 'the slow request in flight');
    await client.deployments.stop('shop');
    assert.deepEqual(await slow, { status: 200, body: 'slow done\n' });
    await eventually(async () => ((await client.deployments.get('shop')).state === 'stopped' ? true : undefined), 60_000, 'the stop');

    // Bad addresses say why.
    const gone = await get(url);
    assert.equal(gone.status, 404, gone.body);
    assert.match(gone.body, /deployment shop is not deployed/);
    const unknown = await get(`${h.url}/d/nothing--00000000/`);
    assert.equal(unknown.status, 404);
  }, { server: { proxyDomain: DOMAIN } });
});
