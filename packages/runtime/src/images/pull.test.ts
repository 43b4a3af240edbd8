// The image store against a real registry on loopback (docker-registry), with images the test builds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startImageFixtures, type ImageFixtures } from '../testing/image-fixtures.js';
import { TEST_TMP_PREFIX } from '../testing/runtime.js';
import { ImageStore } from './store.js';
import type { TemplateProgress } from '../templates/types.js';

const skip = process.getuid?.() === 0 ? false : 'needs root (umoci unpacks with ownership)';
if (skip) console.log(`# image store tests skipped: ${skip}`);

let fx: ImageFixtures;
let dir: string;

before(async () => {
  if (skip) return;
  fx = await startImageFixtures();
  dir = await mkdtemp(join(tmpdir(), `${TEST_TMP_PREFIX}imagestore-`));
});

after(async () => {
  if (skip) return;
  await fx?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A store of its own for one test. */
async function freshStore(name: string, options: Partial<ConstructorParameters<typeof ImageStore>[0]> = {}): Promise<ImageStore> {
  return new ImageStore({ dir: join(dir, name), ...options });
}

test("a pull unpacks the image, whiteouts applied, and keeps its config; progress counts layers and bytes", { skip }, async () => {
  const store = await freshStore('pull');
  const seen: TemplateProgress[] = [];
  const info = await store.pull(fx.app.ref, { onProgress: (p) => seen.push(p) });
  assert.equal(info.record.digest, fx.app.digest);
  assert.equal(info.ref, fx.app.ref);
  assert.deepEqual(info.record.config.entrypoint, ['/bin/sh', '-c']);
  assert.equal(info.record.config.user, 'app');
  assert.equal(info.record.config.workdir, '/home/app');
  assert.equal(info.record.config.env.GREETING, 'hello');
  assert.deepEqual(info.record.config.exposedPorts, ['8080/tcp']);
  const root = info.template.rootfsPath;
  await assert.rejects(stat(join(root, 'etc/motd')), /ENOENT/, 'the second layer deleted /etc/motd');
  assert.equal((await stat(join(root, 'data/new'))).isFile(), true);
  assert.equal((await stat(root)).mode & 0o777, 0o755);
  const last = seen.at(-1);
  assert.equal(last?.phase, 'done');
  assert.equal(last?.layersTotal, 2);
  assert.equal(last?.layersDone, 2);
  assert.ok((last?.bytesTotal ?? 0) > 500_000, `bytes ${last?.bytesTotal}`);
  assert.ok(seen.some((p) => p.phase === 'fetch'));
  assert.deepEqual(await readdir(join(store.dir, 'tmp')), [], 'nothing left in tmp');
});

test('concurrent pulls of one image fetch it once; a cached re-pull and ensure fetch nothing', { skip }, async () => {
  const store = await freshStore('concurrent');
  const got = await Promise.all([1, 2, 3, 4].map(() => store.pull(fx.app.ref)));
  assert.equal(store.fetches, 1);
  assert.equal(new Set(got.map((g) => g.template.rootfsPath)).size, 1);
  await store.pull(fx.app.ref);
  await store.ensure(fx.app.ref);
  await store.ensure(`${fx.registry.host}/team/app@${fx.app.digest}`);
  assert.equal(store.fetches, 1);
  // A second store over the same directory (another process's view) finds it ready too.
  const other = await freshStore('concurrent');
  await other.ensure(fx.app.ref);
  assert.equal(other.fetches, 0);
});

test('a multi-arch index gives its linux/amd64 image; an index without one is refused naming what it has', { skip }, async () => {
  const store = await freshStore('index');
  const info = await store.pull(fx.multi.ref);
  assert.equal(info.record.digest, fx.multiAmd64Digest);
  assert.deepEqual(info.record.config.cmd, ['echo', 'amd64']);
  await assert.rejects(store.pull(fx.armonly.ref), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /armonly:1 has no linux\/amd64 variant \(it has linux\/arm64\)/);
    return true;
  });
});

test('a private registry refuses a pull without credentials and serves one with them', { skip }, async () => {
  const store = await freshStore('private');
  await assert.rejects(store.pull(fx.privateApp.ref), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /refused access to image .*secret\/app:1: give valid registry credentials/);
    assert.doesNotMatch(e.message, /pass word/);
    return true;
  });
  await assert.rejects(store.pull(fx.privateApp.ref, { auth: { username: fx.auth.username, password: 'wrong' } }), /refused access/);
  const info = await store.pull(fx.privateApp.ref, { auth: fx.auth });
  assert.equal(info.record.digest, fx.privateApp.digest);
  assert.deepEqual(await readdir(join(store.dir, 'tmp')), [], 'the auth file is gone');
});

test('bad references, unknown tags and unreachable registries fail clearly and leave nothing half made', { skip }, async () => {
  const store = await freshStore('errors');
  await assert.rejects(store.pull('Not/Valid'), (e: Error & { code?: string }) => e.code === 'invalid_argument' && /image reference "Not\/Valid" is invalid/.test(e.message));
  await assert.rejects(store.pull(`${fx.registry.host}/team/app:nope`), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /team\/app:nope was not found in its registry/);
    return true;
  });
  const closed = await closedPort();
  await assert.rejects(store.pull(`127.0.0.1:${closed}/team/app:1`), (e: Error & { code?: string; retryable?: boolean }) => {
    assert.equal(e.code, 'unavailable');
    assert.equal(e.retryable, true);
    assert.match(e.message, new RegExp(`registry of image 127\\.0\\.0\\.1:${closed}/team/app:1 could not be reached`));
    return true;
  });
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await readdir(join(store.dir, 'roots')).catch(() => []), []);
});

test('a mirror answers for a registry before the registry itself', { skip }, async () => {
  // The registry named is loopback with nothing listening (a test sends nothing off the machine);
  // its mirror is the test registry, so the pull succeeds only through the mirror.
  const gone = `127.0.0.1:${await closedPort()}`;
  const store = await freshStore('mirror', { registries: { mirrors: { [gone]: [fx.registry.host] } } });
  const info = await store.pull(`${gone}/team/app:1`);
  assert.equal(info.ref, `${gone}/team/app:1`);
  assert.equal(info.record.digest, fx.app.digest);
  assert.throws(
    () => new ImageStore({ dir: join(dir, 'bad-mirror'), registries: { mirrors: { 'docker.io': ['not a host'] } } }),
    /registry mirror setting "not a host" is not a host\[:port\]/,
  );
});

test('garbage collection removes least recently used images down to the budget, and unneeded blobs', { skip }, async () => {
  const store = await freshStore('gc');
  const app = await store.pull(fx.app.ref);
  await new Promise((r) => setTimeout(r, 20));
  const nosleep = await store.pull(fx.nosleep.ref);
  // Both used just now: the default idle margin keeps them whatever the budget.
  assert.deepEqual((await store.collect({ budgetBytes: 0 })).removed, []);
  // A budget that fits nosleep (its root and blobs) but not both: the least recently used (app) goes.
  const blobBytes = async (r: typeof app.record): Promise<number> =>
    (await Promise.all(r.blobs.map((b) => stat(join(store.dir, 'blobs', 'sha256', b.slice(7))).then((s) => s.size)))).reduce((a, n) => a + n, 0);
  const nosleepBytes = nosleep.record.sizeBytes + (await blobBytes(nosleep.record));
  const c = await store.collect({ budgetBytes: nosleepBytes, minIdleMs: 0 });
  assert.deepEqual(c.removed, [app.record.digest]);
  assert.equal(c.keptBytes, nosleepBytes);
  assert.deepEqual((await store.list()).map((r) => r.digest), [nosleep.record.digest]);
  const blobs = await readdir(join(store.dir, 'blobs', 'sha256'));
  for (const b of app.record.blobs) {
    if (!nosleep.record.blobs.includes(b)) assert.equal(blobs.includes(b.slice(7)), false, `blob ${b} of the removed image is gone`);
  }
  for (const b of nosleep.record.blobs) assert.equal(blobs.includes(b.slice(7)), true, `blob ${b} of the kept image stays`);
  // Pulled again after collection: fetched anew and whole.
  const again = await store.pull(fx.app.ref);
  assert.equal((await stat(join(again.template.rootfsPath, 'data/new'))).isFile(), true);
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
