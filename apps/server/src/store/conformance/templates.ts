/** Conformance: tenants' templates and registry credentials. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileRun, ConflictError, InvalidArgumentError, NotFoundError } from '@tartarus/core';
import { withStore, type BackendFixture } from './harness.js';

const CONFIG = {
  entrypoint: ['/bin/sh', '-c'],
  cmd: ['echo hi'],
  env: { PATH: '/bin' },
  workdir: '/srv',
  user: 'app',
  exposedPorts: ['8080/tcp'],
};
const DIGEST = `sha256:${'a'.repeat(64)}`;

/** Defines the template and registry-credential tests for a backend. */
export function templatesSuite(fx: BackendFixture): void {
  describe('templates', () => {
    test('create pending, mark ready, list, get; names are per tenant; duplicates conflict', () =>
      withStore(fx, async ({ store, clock }) => {
        const a = await store.tenants.create({ name: 'a' });
        const b = await store.tenants.create({ name: 'b' });
        const t = await store.templates.create(a.id, {
          name: 'web',
          source: 'image',
          image: 'nginx:1',
        });
        assert.deepEqual([t.status, t.digest, t.config, t.builtAt], ['pending', null, null, null]);
        await assert.rejects(
          store.templates.create(a.id, { name: 'web', source: 'image', image: 'other' }),
          (e: unknown) => e instanceof ConflictError && /"web" exists/.test(e.message),
        );
        // The same name in another tenant is another template.
        await store.templates.create(b.id, { name: 'web', source: 'image', image: 'nginx:2' });
        assert.equal(await store.templates.find(b.id, 'nope'), null);
        await assert.rejects(store.templates.get(b.id, 'nope'), NotFoundError);
        clock.advance(5);
        const ready = await store.templates.markReady(a.id, 'web', {
          digest: DIGEST,
          sizeBytes: 42,
          config: CONFIG,
        });
        assert.deepEqual(
          [ready.status, ready.digest, ready.sizeBytes, ready.config, ready.builtAt, ready.error],
          ['ready', DIGEST, 42, CONFIG, clock.now, null],
        );
        assert.equal((await store.templates.get(b.id, 'web')).image, 'nginx:2');
        await store.templates.create(a.id, { name: 'api', source: 'image', image: 'x' });
        assert.deepEqual(
          (await store.templates.list(a.id)).map((x) => x.name),
          ['api', 'web'],
        );
        assert.equal(await store.templates.context(a.id, 'web'), null);
      }));

    test('a Dockerfile template keeps its context; failed → pending; delete; another tenant sees nothing', () =>
      withStore(fx, async ({ store }) => {
        const a = await store.tenants.create({ name: 'a' });
        const other = await store.tenants.create({ name: 'o' });
        const context = Buffer.from([0, 1, 2, 255, 0, 7]);
        const t = await store.templates.create(a.id, {
          name: 'built',
          source: 'dockerfile',
          image: 'tartarus.local/a/built:latest',
          dockerfile: 'sub/Dockerfile',
          context,
        });
        assert.deepEqual([t.source, t.dockerfile], ['dockerfile', 'sub/Dockerfile']);
        assert.deepEqual(await store.templates.context(a.id, 'built'), context);
        await assert.rejects(store.templates.context(other.id, 'built'), NotFoundError);
        const failed = await store.templates.markFailed(a.id, 'built', 'no FROM line');
        assert.deepEqual([failed.status, failed.error], ['failed', 'no FROM line']);
        assert.equal((await store.templates.markPending(a.id, 'built')).status, 'pending');
        await store.templates.markReady(a.id, 'built', {
          digest: DIGEST,
          sizeBytes: 1,
          config: CONFIG,
        });
        assert.equal(
          (await store.templates.markPending(a.id, 'built')).status,
          'ready',
          'a ready one stays ready',
        );
        await assert.rejects(store.templates.delete(other.id, 'built'), NotFoundError);
        await assert.rejects(
          store.templates.markReady(other.id, 'built', {
            digest: DIGEST,
            sizeBytes: 1,
            config: CONFIG,
          }),
          NotFoundError,
        );
        assert.equal((await store.templates.delete(a.id, 'built')).name, 'built');
        await assert.rejects(store.templates.get(a.id, 'built'), NotFoundError);
        await assert.rejects(store.templates.markFailed(a.id, 'built', 'x'), NotFoundError);
        await assert.rejects(
          store.templates.create('ten_missing', { name: 'x', source: 'image', image: 'x' }),
          NotFoundError,
        );
      }));

    test('a run without a command is accepted only with an image (its ENTRYPOINT + CMD run)', () =>
      withStore(fx, async ({ store }) => {
        const a = await store.tenants.create({ name: 'a' });
        const onImage = {
          ...compileRun({ argv: ['x'] }, null),
          command: null,
          image: `r.example/app@${DIGEST}`,
        };
        assert.equal((await store.runs.submit(a.id, onImage)).run.spec.image, onImage.image);
        await assert.rejects(
          store.runs.submit(a.id, { ...onImage, image: null }),
          (e: unknown) => e instanceof InvalidArgumentError && /a command/.test(e.message),
        );
      }));

    test('registry credentials: put replaces, listing has no password, per tenant, delete', () =>
      withStore(fx, async ({ store, clock }) => {
        const a = await store.tenants.create({ name: 'a' });
        const b = await store.tenants.create({ name: 'b' });
        const first = await store.registryCredentials.put(a.id, 'Registry.Example.com:5000', {
          username: 'u',
          password: 'p1',
        });
        assert.equal(first.registry, 'registry.example.com:5000');
        clock.advance(10);
        const again = await store.registryCredentials.put(a.id, 'registry.example.com:5000', {
          username: 'u2',
          password: 'pass-word-2',
        });
        assert.deepEqual(
          [again.username, again.createdAt, again.updatedAt],
          ['u2', first.createdAt, clock.now],
        );
        await store.registryCredentials.put(a.id, 'index.docker.io', {
          username: 'hub',
          password: 'h',
        });
        const listed = await store.registryCredentials.list(a.id);
        assert.deepEqual(
          listed.map((c) => c.registry),
          ['docker.io', 'registry.example.com:5000'],
        );
        assert.ok(!JSON.stringify(listed).includes('pass-word-2'), 'a listing never carries a password (one that cannot be part of an id or a time)');
        assert.deepEqual(await store.registryCredentials.login(a.id, 'registry.example.com:5000'), {
          username: 'u2',
          password: 'pass-word-2',
        });
        assert.deepEqual(await store.registryCredentials.login(a.id, 'docker.io'), {
          username: 'hub',
          password: 'h',
        });
        assert.equal(
          await store.registryCredentials.login(b.id, 'registry.example.com:5000'),
          null,
        );
        assert.deepEqual(Object.keys(await store.registryCredentials.logins(a.id)).sort(), [
          'docker.io',
          'registry.example.com:5000',
        ]);
        assert.deepEqual(await store.registryCredentials.list(b.id), []);
        await assert.rejects(store.registryCredentials.delete(b.id, 'docker.io'), NotFoundError);
        await store.registryCredentials.delete(a.id, 'docker.io');
        assert.equal(await store.registryCredentials.login(a.id, 'docker.io'), null);
        await assert.rejects(store.registryCredentials.delete(a.id, 'docker.io'), NotFoundError);
      }));

    test('a large build context round-trips; a deleted tenant takes its templates and credentials', () =>
      withStore(fx, async ({ store }) => {
        const a = await store.tenants.create({ name: 'a' });
        const context = Buffer.alloc(4 << 20);
        for (let i = 0; i < context.length; i += 4096) context[i] = i % 251;
        await store.templates.create(a.id, {
          name: 'big',
          source: 'dockerfile',
          image: 't',
          dockerfile: 'Dockerfile',
          context,
        });
        assert.ok((await store.templates.context(a.id, 'big'))?.equals(context));
        await store.registryCredentials.put(a.id, 'r.example', { username: 'u', password: 'p' });
        await store.tenants.delete(a.id);
        const t = await store.tenants.create({ id: a.id, name: 'a again' });
        assert.deepEqual(await store.templates.list(t.id), []);
        assert.deepEqual(await store.registryCredentials.list(t.id), []);
      }));
  });
}
