import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, startRegistry, type TestRegistry } from './registry.js';
import {
  buildTestImage,
  buildTestIndex,
  ociManifestDigest,
  pushTestImage,
  pushTestIndex,
  type TestImageConfig,
  type TestImageSpec,
} from './images.js';

// umoci unpacks as root (chown) and the pulled image is run with chroot.
const skip = process.getuid?.() === 0 ? false : 'needs root (umoci unpack, chroot)';
if (skip) console.log(`# registry fixture tests skipped: ${skip}`);

const CONFIG: TestImageConfig = {
  entrypoint: ['/bin/sh', '-c'],
  cmd: ['echo hello from $GREETING'],
  env: { PATH: '/bin', GREETING: 'tartarus test' },
  workdir: '/home/app',
  user: 'app',
  exposedPorts: ['8080/tcp'],
};

/** A busybox image whose second layer deletes a file of the first (a whiteout). */
const SPEC: TestImageSpec = {
  busybox: true,
  layers: [
    {
      files: {
        '/etc/motd': 'gone soon\n',
        '/opt/tool': { mode: 0o750, content: '#!/bin/sh\necho tool\n' },
      },
    },
    { remove: ['/etc/motd'], files: { '/opt/link': { symlink: 'tool' } }, dirs: ['/data'] },
  ],
  config: CONFIG,
};

async function withLayout<T>(fn: (layout: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tt-images-test-'));
  try {
    return await fn(join(dir, 'layout'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** skopeo's flags to read from `registry` (plain HTTP), with its creds unless `anonymous`. */
function readArgs(registry: TestRegistry, anonymous = false): string[] {
  const auth = registry.auth;
  return [
    '--tls-verify=false',
    ...(auth && !anonymous ? ['--creds', `${auth.username}:${auth.password}`] : ['--no-creds']),
  ];
}

async function inspect(registry: TestRegistry, ref: string, ...flags: string[]): Promise<string> {
  return runTool('skopeo', ['inspect', ...flags, ...readArgs(registry), `docker://${ref}`]);
}

/** Processes whose command line names `dir` (the registry's config path, the watchdog's args). */
async function processesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dir)) found.push(`${pid} ${cmd.replaceAll('\0', ' ')}`);
  }
  return found;
}

async function assertGone(registry: TestRegistry): Promise<void> {
  await assert.rejects(stat(registry.dir), { code: 'ENOENT' });
  assert.deepEqual(await processesIn(registry.dir), []);
}

const sha256 = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

test(
  'an image with config and a whiteout, and a 2-platform index, served by a registry',
  { skip },
  async () => {
    const registry = await startRegistry();
    try {
      assert.match(registry.host, /^127\.0\.0\.1:\d+$/);
      await withLayout(async (layout) => {
        const local = await buildTestImage(layout, 'app', SPEC);
        const pushed = await pushTestImage(layout, 'app', registry, 'tt/app:v1');
        assert.equal(pushed.ref, `${registry.host}/tt/app:v1`);
        assert.equal(pushed.digest, local, 'an OCI push keeps the layout manifest byte for byte');

        const raw = await inspect(registry, pushed.ref, '--raw');
        assert.equal(sha256(raw), pushed.digest);
        const manifest = JSON.parse(raw);
        // umoci 0.4.7 writes OCI manifests without the (optional) `mediaType` field.
        assert.equal(manifest.mediaType, undefined);
        assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
        assert.equal(manifest.layers.length, 2);
        // The second layer holds the whiteout of /etc/motd.
        const second = manifest.layers[1].digest.replace('sha256:', '');
        const names = (await runTool('tar', ['-tzf', join(layout, 'blobs/sha256', second)])).split(
          '\n',
        );
        assert.ok(names.includes('etc/.wh.motd'), names.join(' '));

        const config = JSON.parse(await inspect(registry, pushed.ref, '--config'));
        assert.deepEqual(config.config, {
          Entrypoint: CONFIG.entrypoint,
          Cmd: CONFIG.cmd,
          Env: ['PATH=/bin', 'GREETING=tartarus test'],
          WorkingDir: '/home/app',
          User: 'app',
          ExposedPorts: { '8080/tcp': {} },
        });
        assert.equal(config.architecture, 'amd64');
        assert.equal(config.os, 'linux');
        assert.equal(JSON.parse(await inspect(registry, pushed.ref)).Digest, pushed.digest);

        // Pulled back and unpacked, the image runs its busybox shell as `app`, without /etc/motd.
        await runTool('skopeo', [
          'copy',
          '--quiet',
          '--src-tls-verify=false',
          '--src-no-creds',
          `docker://${pushed.ref}`,
          `oci:${layout}:pulled`,
        ]);
        const bundle = join(layout, '..', 'bundle');
        await runTool('umoci', ['unpack', '--image', `${layout}:pulled`, bundle]);
        const out = await runTool('chroot', [
          join(bundle, 'rootfs'),
          '/bin/sh',
          '-c',
          'id app; ls /etc; /opt/link; whoami',
        ]);
        assert.match(out, /uid=1234\(app\) gid=1234\(app\)/);
        assert.doesNotMatch(out, /motd/);
        assert.match(out, /^tool$/m);
        assert.match(out, /^root$/m);
        assert.equal((await stat(join(bundle, 'rootfs/home/app'))).uid, 1234);
        assert.equal((await stat(join(bundle, 'rootfs/opt/tool'))).mode & 0o7777, 0o750);

        // An arm64 twin (same files) and an index of both.
        await buildTestImage(layout, 'app-arm64', {
          ...SPEC,
          config: { ...CONFIG, architecture: 'arm64' },
        });
        const indexDigest = await buildTestIndex(layout, 'multi', [
          { tag: 'app', platform: { architecture: 'amd64', os: 'linux' } },
          { tag: 'app-arm64', platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        ]);
        assert.equal(await ociManifestDigest(layout, 'multi'), indexDigest);
        const multi = await pushTestIndex(layout, 'multi', registry, 'tt/multi:v1');
        assert.equal(multi.digest, indexDigest);
        const rawIndex = await inspect(registry, multi.ref, '--raw');
        assert.equal(sha256(rawIndex), indexDigest);
        const index = JSON.parse(rawIndex);
        assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
        assert.deepEqual(
          index.manifests.map((m: { digest: string; platform: unknown }) => [m.digest, m.platform]),
          [
            [local, { architecture: 'amd64', os: 'linux' }],
            [
              await ociManifestDigest(layout, 'app-arm64'),
              { architecture: 'arm64', os: 'linux', variant: 'v8' },
            ],
          ],
        );
      });
    } finally {
      await registry.stop();
    }
    await registry.stop(); // idempotent
    await assertGone(registry);
  },
);

test(
  'a registry with auth refuses anonymous pushes and reads; padding is incompressible',
  { skip },
  async () => {
    const auth = { username: 'tester', password: 'pa:ss w0rd' };
    const registry = await startRegistry({ auth });
    try {
      assert.deepEqual(registry.auth, auth);
      const res = await fetch(`http://${registry.host}/v2/`);
      assert.equal(res.status, 401);
      await withLayout(async (layout) => {
        await buildTestImage(layout, 'small', {
          layers: [{ files: { '/hello': 'hi\n' } }],
          config: {},
          padMiB: 2,
        });
        const anonymous = { ...registry, auth: undefined };
        await assert.rejects(
          pushTestImage(layout, 'small', anonymous, 'tt/small:v1'),
          /unauthorized|authentication required/,
        );

        const pushed = await pushTestImage(layout, 'small', registry, 'tt/small:v1', {
          format: 'v2s2',
        });
        await assert.rejects(
          runTool('skopeo', [
            'inspect',
            '--raw',
            ...readArgs(registry, true),
            `docker://${pushed.ref}`,
          ]),
          /unauthorized|authentication required/,
        );
        const raw = await inspect(registry, pushed.ref, '--raw');
        assert.equal(sha256(raw), pushed.digest);
        const manifest = JSON.parse(raw);
        assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
        assert.notEqual(
          pushed.digest,
          await ociManifestDigest(layout, 'small'),
          'v2s2 is a converted manifest',
        );
        // 2 MiB of padding stays ~2 MiB gzipped.
        assert.equal(manifest.layers.length, 2);
        assert.ok(
          manifest.layers[1].size > 2 * 1024 * 1024,
          `padding layer ${manifest.layers[1].size} bytes`,
        );
      });
    } finally {
      await registry.stop();
    }
    await assertGone(registry);
  },
);

/** A registry started by another node process, which then ended as `how` says. */
async function registryOfDeadProcess(
  how: 'exit' | 'SIGKILL',
): Promise<{ dir: string; pid: number }> {
  const module = new URL('./registry.js', import.meta.url).href;
  const script = `
    const { startRegistry } = await import(${JSON.stringify(module)});
    const r = await startRegistry();
    console.log(JSON.stringify({ dir: r.dir, pid: r.pid }));
    if (${JSON.stringify(how)} === 'SIGKILL') setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const registry = JSON.parse(line.toString()) as { dir: string; pid: number };
  assert.ok((await stat(registry.dir)).isDirectory());
  if (how === 'SIGKILL') child.kill('SIGKILL');
  await once(child, 'exit');
  return registry;
}

/** Whether `pid` is still a docker-registry process (a zombie counts: it is reaped by init). */
async function isRegistry(pid: number): Promise<boolean> {
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return comm.trim() === 'docker-registry';
}

async function waitUntil(
  what: string,
  cond: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`still not ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  'a test process that dies without stop() leaves no registry or dir behind',
  { skip },
  async () => {
    // A normal exit: the 'exit' handler kills the registry and removes its dir synchronously.
    const exited = await registryOfDeadProcess('exit');
    await assert.rejects(stat(exited.dir), { code: 'ENOENT' });
    assert.deepEqual(await processesIn(exited.dir), []);
    // SIGKILL: no handler runs; the watchdog sees its pipe close and cleans up just after.
    const killed = await registryOfDeadProcess('SIGKILL');
    await waitUntil('removed', async () => !(await stat(killed.dir).catch(() => null)));
    assert.deepEqual(await processesIn(killed.dir), []);
    // Both registries were orphaned (to init, which reaps them a moment later).
    await waitUntil(
      'reaped',
      async () => !(await isRegistry(exited.pid)) && !(await isRegistry(killed.pid)),
    );
  },
);
