/**
 * Tenants' templates through the whole system: a busybox image (ENTRYPOINT, CMD, ENV, USER,
 * WORKDIR) built here and pushed to loopback registries (one of them behind basic auth), then
 * created as a template, run with and without a command, kept from other tenants, pulled with
 * stored credentials, rebuilt when its tag moves, and deleted; plus the ways a create goes wrong.
 * Real registry, real skopeo/umoci, real runc; nothing is downloaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTestImage,
  pushTestImage,
  startRegistry,
  type TestImageConfig,
  type TestRegistry,
} from '@tartarus/runtime/testing';
import { call, containerSkipReason, withEmbedded, type CallOptions } from './helpers.js';

const AUTH = { username: 'puller', password: 'pa55 word:secret' };
const CONFIG: TestImageConfig = {
  entrypoint: ['/bin/sh', '-c'],
  cmd: ['echo "cmd-ran $GREETING"; id -u; pwd'],
  env: { PATH: '/bin', GREETING: 'hello' },
  workdir: '/home/app',
  user: 'app',
  exposedPorts: ['8080/tcp'],
};

/** Why this test cannot run here, or undefined. */
async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (umoci unpack, runc)';
  for (const tool of ['skopeo', 'umoci', 'docker-registry', 'htpasswd']) {
    const which = spawnSync('sh', ['-c', `command -v ${tool}`]);
    if (which.status !== 0) return `${tool} is not installed (run scripts/setup.sh)`;
  }
  return containerSkipReason();
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Builds the test image as `tag` in `layout` with `cmd` as its CMD. */
function buildApp(layout: string, tag: string, cmd: string): Promise<string> {
  return buildTestImage(layout, tag, {
    busybox: true,
    layers: [{ files: { '/etc/app': 'x\n' } }],
    config: { ...CONFIG, cmd: [cmd] },
  });
}

test('tenant templates from registries, end to end', async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-images-'));
  const registries: TestRegistry[] = [];
  try {
    const pub = await startRegistry();
    registries.push(pub);
    const priv = await startRegistry({ auth: AUTH });
    registries.push(priv);
    const layout = join(dir, 'layout');
    await buildApp(layout, 'app', CONFIG.cmd?.[0] ?? '');
    const app = await pushTestImage(layout, 'app', pub, 'team/app:1');
    const secret = await pushTestImage(layout, 'app', priv, 'secret/app:1');
    await withEmbedded(async (h) => {
      const A = (m: string, p: string, o?: CallOptions) => call(h.url, h.adminKey, m, p, o);
      const tenantB = (await A('POST', '/v1/tenants', { body: { name: 'b' } })).json.id as string;
      const keyB = (
        await A('POST', '/v1/api-keys', { body: { name: 'b', role: 'admin', tenantId: tenantB } })
      ).json.secret as string;
      const B = (m: string, p: string, o?: CallOptions) => call(h.url, keyB, m, p, o);

      await t.test('create from an image: digest, config, source', async () => {
        const r = await A('POST', '/v1/templates', { body: { name: 'app', image: app.ref } });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.digest, app.digest);
        assert.deepEqual(
          [r.json.source, r.json.status, r.json.image, r.json.built],
          ['image', 'ready', app.ref, true],
        );
        assert.deepEqual(r.json.config, { ...CONFIG, env: { PATH: '/bin', GREETING: 'hello' } });
        assert.deepEqual((await A('GET', '/v1/templates/app')).json, r.json);
        const items = (await A('GET', '/v1/templates')).json.items as {
          name: string;
          source: string;
        }[];
        assert.deepEqual(items.find((x) => x.name === 'busybox')?.source, 'builtin');
        assert.deepEqual(items.find((x) => x.name === 'app')?.source, 'image');
      });

      await t.test('a run without a command runs ENTRYPOINT + CMD; argv replaces CMD', async () => {
        const own = await A('POST', '/v1/runs?wait=120s', { body: { template: 'app' } });
        assert.equal(own.status, 201, own.text);
        assert.equal(own.json.stdout, 'cmd-ran hello\n1234\n/home/app\n', own.text);
        assert.equal(own.json.template, 'app');
        assert.equal(own.json.image, `${pub.host}/team/app@${app.digest}`, 'pinned by digest');
        const argv = await A('POST', '/v1/runs?wait=120s', {
          body: { template: 'app', argv: ['echo argv-ran as $(id -u)'] },
        });
        assert.equal(argv.json.stdout, 'argv-ran as 1234\n', argv.text);
      });

      await t.test('a sandbox on the template runs as its USER in its WORKDIR', async () => {
        const s = await A('POST', '/v1/sandboxes', { body: { template: 'app' } });
        assert.equal(s.status, 201, s.text);
        try {
          const ex = await A('POST', `/v1/sandboxes/${s.json.id}/exec`, {
            body: { argv: ['sh', '-c', 'id -u; pwd; echo $GREETING'] },
          });
          assert.equal(ex.json.stdout, '1234\n/home/app\nhello\n', ex.text);
        } finally {
          await A('DELETE', `/v1/sandboxes/${s.json.id}`);
        }
      });

      await t.test("another tenant can neither see nor use a tenant's template", async () => {
        assert.equal((await B('GET', '/v1/templates/app')).status, 404);
        assert.ok(
          !((await B('GET', '/v1/templates')).json.items as { name: string }[]).some(
            (x) => x.name === 'app',
          ),
        );
        const run = await B('POST', '/v1/runs', { body: { template: 'app' } });
        assert.equal(run.status, 400, run.text);
        assert.match(
          run.json.error.message,
          /unknown template "app": use one of busybox, debian, python$/,
        );
        assert.equal((await B('POST', '/v1/sandboxes', { body: { template: 'app' } })).status, 400);
        assert.equal((await B('DELETE', '/v1/templates/app')).status, 404);
        assert.equal((await B('POST', '/v1/templates/app/rebuild')).status, 404);
        // Names are per tenant: B may have its own "app".
        const own = await B('POST', '/v1/templates', { body: { name: 'app', image: app.ref } });
        assert.equal(own.status, 201, own.text);
        assert.equal((await B('DELETE', '/v1/templates/app')).status, 200);
        assert.equal((await A('GET', '/v1/templates/app')).json.status, 'ready');
      });

      await t.test(
        'a private registry: refused without credentials, pulled with them; no password shown',
        async () => {
          const denied = await A('POST', '/v1/templates', {
            body: { name: 'priv', image: secret.ref },
          });
          assert.ok(denied.status >= 400 && denied.status < 500, denied.text);
          assert.ok(denied.json.error.message.includes(`${priv.host}/secret/app:1`), denied.text);
          assert.equal(
            (await A('GET', '/v1/templates/priv')).status,
            404,
            'a failed create leaves nothing',
          );
          const path = `/v1/registries/${priv.host}/credentials`;
          const put = await A('PUT', path, { body: AUTH });
          assert.equal(put.status, 200, put.text);
          assert.deepEqual([put.json.registry, put.json.username], [priv.host, AUTH.username]);
          const listed = await A('GET', '/v1/registries');
          assert.deepEqual(
            listed.json.items.map((c: { registry: string }) => c.registry),
            [priv.host],
          );
          for (const r of [put, listed])
            assert.ok(!r.text.includes(AUTH.password), 'never the password');
          assert.deepEqual((await B('GET', '/v1/registries')).json.items, []);
          const ok = await A('POST', '/v1/templates', {
            body: { name: 'priv', image: secret.ref },
          });
          assert.equal(ok.status, 201, ok.text);
          assert.equal(ok.json.digest, secret.digest);
          const run = await A('POST', '/v1/runs?wait=120s', {
            body: { template: 'priv', argv: ['echo private-ran'] },
          });
          assert.equal(run.json.stdout, 'private-ran\n', run.text);
          // An image this node never pulled: the start carries the tenant's login (the scheduler's registryAuth).
          await buildApp(layout, 'other', 'echo other-ran');
          const other = await pushTestImage(layout, 'other', priv, 'secret/other:1');
          const direct = await A('POST', '/v1/runs?wait=120s', { body: { image: other.ref } });
          assert.deepEqual(
            [direct.json.state, direct.json.stdout],
            ['succeeded', 'other-ran\n'],
            direct.text,
          );
          const audit = await A('GET', '/v1/audit?limit=100');
          assert.ok(!audit.text.includes(AUTH.password), 'nor in the audit log');
          assert.equal((await A('DELETE', path)).status, 204);
          assert.equal((await A('DELETE', path)).status, 404);
        },
      );

      await t.test('a moved tag is picked up by a rebuild; streamed with SSE', async () => {
        await buildApp(layout, 'app2', 'echo second-build');
        const moved = await pushTestImage(layout, 'app2', pub, 'team/app:1');
        assert.notEqual(moved.digest, app.digest);
        const r = await A('POST', '/v1/templates/app/rebuild', {
          headers: { accept: 'text/event-stream' },
        });
        assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
        assert.match(r.text, /event: progress\ndata: \{"template":"app"/);
        const done = /event: done\ndata: (.*)\n/.exec(r.text);
        assert.ok(done, r.text);
        assert.equal(JSON.parse(done[1] ?? '{}').digest, moved.digest);
        const run = await A('POST', '/v1/runs?wait=120s', { body: { template: 'app' } });
        assert.equal(run.json.stdout, 'second-build\n', run.text);
      });

      await t.test('bad references, unreachable registries, taken names', async () => {
        const bad = await A('POST', '/v1/templates', {
          body: { name: 'bad', image: 'Team/App:1' },
        });
        assert.equal(bad.status, 400, bad.text);
        assert.match(bad.json.error.message, /"Team\/App:1" is invalid/);
        const port = await closedPort();
        const down = await A('POST', '/v1/templates', {
          body: { name: 'down', image: `127.0.0.1:${port}/x/y:1` },
        });
        assert.equal(down.status, 503, down.text);
        assert.match(
          down.json.error.message,
          new RegExp(`127\\.0\\.0\\.1:${port}/x/y:1 could not be reached`),
        );
        assert.equal((await A('GET', '/v1/templates/down')).status, 404);
        const sse = await A('POST', '/v1/templates', {
          body: { name: 'down', image: `127.0.0.1:${port}/x/y:1` },
          headers: { accept: 'text/event-stream' },
        });
        assert.match(sse.text, /event: error\ndata: \{"code":"unavailable"/);
        const dup = await A('POST', '/v1/templates', { body: { name: 'app', image: app.ref } });
        assert.equal(dup.status, 409);
        assert.match(dup.json.error.message, /"app" exists/);
        const builtin = await A('POST', '/v1/templates', {
          body: { name: 'busybox', image: app.ref },
        });
        assert.equal(builtin.status, 409);
        assert.match(builtin.json.error.message, /"busybox" is a built-in template/);
        const del = await A('DELETE', '/v1/templates/busybox');
        assert.equal(del.status, 400);
        assert.match(del.json.error.message, /built-in templates cannot be deleted/);
      });

      await t.test('delete: gone for new work', async () => {
        assert.equal((await A('DELETE', '/v1/templates/priv')).status, 200);
        assert.equal((await A('GET', '/v1/templates/priv')).status, 404);
        const run = await A('POST', '/v1/runs', { body: { template: 'priv' } });
        assert.equal(run.status, 400);
        assert.match(
          run.json.error.message,
          /unknown template "priv": use one of busybox, debian, python, app$/,
        );
        assert.equal((await A('DELETE', '/v1/templates/priv')).status, 404);
      });

      await t.test('a Dockerfile build: context checked, built, run', async () => {
        const ctxDir = join(dir, 'ctx');
        await rm(ctxDir, { recursive: true, force: true });
        spawnSync('mkdir', ['-p', join(ctxDir, 'docker')]);
        await writeFile(
          join(ctxDir, 'docker', 'app.Dockerfile'),
          `FROM ${app.ref}\nCOPY hello.txt /hello.txt\nCMD ["cat /hello.txt"]\n`,
        );
        await writeFile(join(ctxDir, 'hello.txt'), 'from-dockerfile\n');
        const tar = spawnSync('tar', ['-C', ctxDir, '-cf', '-', '.'], { maxBuffer: 64 << 20 });
        const context = tar.stdout.toString('base64');
        const missing = await A('POST', '/v1/templates', {
          body: { name: 'df', dockerfile: 'Dockerfile', context },
        });
        assert.equal(missing.status, 400);
        assert.match(missing.json.error.message, /no file Dockerfile/);
        const notTar = await A('POST', '/v1/templates', {
          body: {
            name: 'df',
            dockerfile: 'Dockerfile',
            context: Buffer.from('hello').toString('base64'),
          },
        });
        assert.equal(notTar.status, 400);
        assert.match(notTar.json.error.message, /not a tar archive/);
        const r = await A('POST', '/v1/templates', {
          body: { name: 'df', dockerfile: 'docker/app.Dockerfile', context },
        });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.source, 'dockerfile');
        assert.match(r.json.image, /^tartarus\.local\/[a-z0-9_]+\/df:latest$/);
        const run = await A('POST', '/v1/runs?wait=120s', { body: { template: 'df' } });
        assert.equal(run.json.stdout, 'from-dockerfile\n', run.text);
        assert.equal((await A('POST', '/v1/templates/df/rebuild')).status, 200);
      });
    });
  } finally {
    for (const r of registries) await r.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
