/**
 * Internal endpoints end to end (real runc, the embedded platform): a deployment whose `web`
 * service (two busybox httpd replicas, each serving a file that names it) is reached by name from
 * its `client` service (python's urllib, resolving through the gateway as any program does):
 * `http://web:8080/` and `http://web.names-demo.internal:8080/` are answered by both replicas over
 * a bounded loop; a replica whose health check fails (isolated: it keeps running) drops out of
 * the answers; a sandbox outside the deployment does not know the names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tartarus } from '@tartarus/sdk';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { containerSkipReason, eventually, withEmbedded } from './helpers.js';

const SPEC = `version: v1
deployment: names-demo
services:
  web:
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["mkdir -p /tmp/www && cat /proc/sys/kernel/random/uuid > /tmp/www/index.html && touch /tmp/ok && exec httpd -f -p 8080 -h /tmp/www"]
    endpoints:
      - { name: http, protocol: http, port: 8080 }
    health:
      start_grace: 0s
      interval: 1s
      timeout: 2s
      retries: 1
      check:
        type: command
        command: test -f /tmp/ok
    errors:
      on_panic: isolate
    scale: { mode: fixed, replicas: 2 }
  client:
    image:
      name: template:python
    command:
      entrypoint: ["sleep", "infinity"]
    scale: { mode: fixed, replicas: 1 }
`;

/** GETs `url` `count` times in the client; one line per request: the body, or `error: …`. */
const FETCH = `import sys, urllib.request
for _ in range(int(sys.argv[2])):
    try: print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode().strip())
    except Exception as e: print('error: %s' % e)`;

test('deployment services reach each other by name, over the replicas that take traffic', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
    await client.deployments.apply(SPEC, { file: 'names.yaml' });
    const healthyWeb = async (n: number) =>
      eventually(
        async () => {
          const runs = (await client.deployments.runs('names-demo', { service: 'web', live: true })).filter((r) => r.health === 'healthy');
          return runs.length === n ? runs : undefined;
        },
        120_000,
        `${n} healthy web replicas`,
      );
    const web = await healthyWeb(2);
    await eventually(async () => ((await client.deployments.runs('names-demo', { service: 'client', live: true })).some((r) => r.state === 'running') ? true : undefined), 120_000, 'the client running');
    // Each replica's file names it.
    const marker = new Map<string, string>();
    for (const r of web) marker.set((await client.deployments.exec('names-demo', 'web', ['cat', '/tmp/www/index.html'], { replica: r.runId })).stdout.trim(), r.runId);
    assert.equal(marker.size, 2);

    const fetch = async (url: string, count: number): Promise<string[]> =>
      (await client.deployments.exec('names-demo', 'client', ['python3', '-c', FETCH, url, String(count)], { timeoutMs: 60_000 })).stdout.trim().split('\n');
    // Both replicas answer, by either name, within a bounded loop (the node is told the names
    // within a pass of the controller; one replica per DNS answer, at random).
    for (const url of ['http://web:8080/', 'http://web.names-demo.internal:8080/']) {
      const seen = new Set<string>();
      await eventually(
        async () => {
          for (const body of await fetch(url, 10)) seen.add(body);
          return [...marker.keys()].every((m) => seen.has(m)) ? true : undefined;
        },
        60_000,
        `both replicas answering ${url} (seen: ${[...seen].join(', ')})`,
      );
      assert.ok([...seen].every((b) => marker.has(b) || b.startsWith('error:')), `only replicas answer: ${[...seen].join(', ')}`);
    }

    // A replica whose health check fails is isolated (it keeps running) and no longer answered.
    const [sick, sickRun] = [...marker.entries()][0] ?? ['', ''];
    await client.deployments.exec('names-demo', 'web', ['rm', '/tmp/ok'], { replica: sickRun });
    await eventually(async () => ((await client.deployments.runs('names-demo', { service: 'web', live: true })).some((r) => r.runId === sickRun && r.health === 'isolated') ? true : undefined), 30_000, 'the replica isolated');
    // Within a pass and a TTL, every answer comes from the others (the replacement, once healthy, included).
    let last: string[] = [];
    await eventually(
      async () => {
        last = await fetch('http://web:8080/', 20);
        return last.every((b) => b !== sick) && last.some((b) => !b.startsWith('error:')) ? true : undefined;
      },
      30_000,
      'the isolated replica out of the answers',
    );
    const again = await fetch('http://web:8080/', 20);
    assert.ok(!again.includes(sick), `the isolated replica stays out: ${again.join(', ')}`);
    const live = await client.deployments.runs('names-demo', { service: 'web', live: true });
    assert.ok(live.some((r) => r.runId === sickRun && r.state === 'running'), 'the isolated replica still runs');

    // A sandbox outside the deployment does not know its names.
    const outside = await client.sandboxes.create({ template: 'busybox' });
    try {
      const r = await outside.commands.run(['nslookup', '-type=a', 'web.names-demo.internal']);
      assert.notEqual(r.exitCode, 0);
      assert.match(r.stdout + r.stderr, /NXDOMAIN/);
    } finally {
      await outside.kill();
    }
    await client.deployments.stop('names-demo');
  }, { templateDir: testTemplateDir() });
});
