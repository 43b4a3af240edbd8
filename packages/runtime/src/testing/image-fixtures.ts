/**
 * The standard test images, built by the test itself (umoci, from the host's busybox) and served
 * by a registry on loopback — nothing is downloaded:
 * - `app`: ENTRYPOINT `sh -c`, a CMD that prints, ENV, WORKDIR, USER `app`, an exposed port, and
 *   a second layer that deletes a file of the first (a whiteout) and adds one;
 * - `nosleep`: busybox's `sh` only (no `sleep`), no config: a sandbox must idle without it;
 * - `multi`: an index of amd64 (prints `amd64`) and arm64 images; `armonly`: an index of arm64 only;
 * - `private`: `app` again, on a second registry that wants basic auth.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestImage, buildTestIndex, pushTestImage, pushTestIndex, type PushedImage } from './images.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { TEST_TMP_PREFIX } from './runtime.js';

/** What `startImageFixtures()` made. */
export interface ImageFixtures {
  registry: TestRegistry;
  /** The registry that wants `auth`. */
  privateRegistry: TestRegistry;
  auth: { username: string; password: string };
  app: PushedImage;
  nosleep: PushedImage;
  multi: PushedImage;
  /** The amd64 manifest digest inside `multi`. */
  multiAmd64Digest: string;
  armonly: PushedImage;
  privateApp: PushedImage;
  /** A directory for the test's own use (removed by `stop()`). */
  dir: string;
  stop(): Promise<void>;
}

const APP_CMD = 'echo "cmd-ran $GREETING"; id -u; id -g; pwd; test -e /etc/motd && echo motd-present; cat /data/new';

/** Builds and pushes the standard images; call `stop()` in `after`. */
export async function startImageFixtures(): Promise<ImageFixtures> {
  const dir = await mkdtemp(join(tmpdir(), `${TEST_TMP_PREFIX}images-`));
  const auth = { username: 'tester', password: 'pass word:1' };
  const registries: TestRegistry[] = [];
  try {
    const registry = await startRegistry();
    registries.push(registry);
    const privateRegistry = await startRegistry({ auth });
    registries.push(privateRegistry);
    const layout = join(dir, 'layout');
    await buildTestImage(layout, 'app', {
      busybox: true,
      layers: [
        { files: { '/etc/motd': 'welcome\n' } },
        { remove: ['/etc/motd'], files: { '/data/new': 'second-layer\n' } },
      ],
      config: {
        entrypoint: ['/bin/sh', '-c'],
        cmd: [APP_CMD],
        env: { PATH: '/bin', GREETING: 'hello' },
        workdir: '/home/app',
        user: 'app',
        exposedPorts: ['8080/tcp'],
      },
    });
    await buildTestImage(layout, 'nosleep', { busybox: true, layers: [{}, { remove: ['/bin/sleep'] }], config: { env: { PATH: '/bin' } } });
    await buildTestImage(layout, 'amd64', { busybox: true, layers: [], config: { env: { PATH: '/bin' }, cmd: ['echo', 'amd64'] } });
    await buildTestImage(layout, 'arm64', { busybox: true, layers: [], config: { env: { PATH: '/bin' }, cmd: ['echo', 'arm64'], architecture: 'arm64' } });
    await buildTestIndex(layout, 'multi', [
      { tag: 'arm64', platform: { architecture: 'arm64', os: 'linux' } },
      { tag: 'amd64', platform: { architecture: 'amd64', os: 'linux' } },
    ]);
    await buildTestIndex(layout, 'armonly', [{ tag: 'arm64', platform: { architecture: 'arm64', os: 'linux' } }]);
    const anonymous = { ...registry, auth: undefined } as TestRegistry;
    const app = await pushTestImage(layout, 'app', anonymous, 'team/app:1');
    const nosleep = await pushTestImage(layout, 'nosleep', anonymous, 'nosleep:1', { format: 'v2s2' });
    const amd64 = await pushTestImage(layout, 'amd64', anonymous, 'plain-amd64:1');
    const multi = await pushTestIndex(layout, 'multi', anonymous, 'multi:1');
    const armonly = await pushTestIndex(layout, 'armonly', anonymous, 'armonly:1');
    const privateApp = await pushTestImage(layout, 'app', privateRegistry, 'secret/app:1');
    return {
      registry,
      privateRegistry,
      auth,
      app,
      nosleep,
      multi,
      multiAmd64Digest: amd64.digest,
      armonly,
      privateApp,
      dir,
      stop: async () => {
        await Promise.all(registries.map((r) => r.stop()));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(registries.map((r) => r.stop()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
