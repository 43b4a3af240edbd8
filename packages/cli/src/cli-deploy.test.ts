// `tartarus deploy` against a real embedded server (runc): progress until the replicas are ready, the
// public endpoint's URL printed and answering, `deployments get` with its endpoints, a revision that
// never becomes healthy rolled back (exit 1, saying so), and `deployments rm`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, serverSkipReason, startCliServer, type CliServer } from './cli-test-helpers.js';

const spec = (args: string): string => `version: v1
deployment: cli-shop
services:
  web:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["${args}"]
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
      replicas: 1
`;
const SERVE = 'mkdir -p /tmp/www && echo served > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www';

describe('tartarus deploy', { skip: serverSkipReason() }, () => {
  let server: CliServer;
  let dir: string;
  const t = (args: string[]) => cli(args, server.env);
  before(async () => {
    server = await startCliServer();
    dir = await mkdtemp(join(tmpdir(), 'tt-cli-deploy-'));
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('waits until ready, prints the endpoint URL; a revision never healthy is rolled back with exit 1', async () => {
    const file = join(dir, 'shop.yaml');
    await writeFile(file, spec(SERVE));
    const up = await t(['deploy', file]);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, /cli-shop r1: web 1\/1 ready \(1 running\)/);
    const m = /^ {2}web\/http: (http:\/\/\S+\/d\/cli-shop--[0-9a-f]{8}\/)$/m.exec(up.stdout);
    assert.ok(m?.[1], up.stdout);
    assert.equal(await (await fetch(m[1])).text(), 'served\n');

    const got = await t(['deployments', 'get', 'cli-shop']);
    assert.equal(got.status, 0, got.stderr);
    assert.match(got.stdout, /web\/http\s+http\s+public\s+80→8080\s+http:\/\/\S+\/d\/cli-shop--/);

    await writeFile(file, spec('exit 3'));
    const bad = await t(['deploy', file, '--timeout', '2m']);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /error: cli-shop revision 2 was replaced by revision 3 \(rolled back: its replicas never became healthy\)/);
    assert.equal(await (await fetch(m[1])).text(), 'served\n', 'revision 1 serves on');

    const removed = await t(['deployments', 'rm', 'cli-shop']);
    assert.equal(removed.status, 0, removed.stderr);
  });
});
