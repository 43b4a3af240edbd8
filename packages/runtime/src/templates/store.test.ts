import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import { runCommand } from '../process/run.js';
import { TemplateStore } from './store.js';
import type { TemplateProgress } from './types.js';

// Building a template chowns the sandbox home and the tests chroot into it.
const skip = process.getuid?.() === 0 ? false : 'needs root (chown, chroot)';
if (skip) console.log(`# template store tests skipped: ${skip}`);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tartarus-templates-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('busybox builds with applets, users, mount points and template.json', { skip }, async () => {
  await withDir(async (dir) => {
    const info = await new TemplateStore({ dir }).ensure('busybox');
    const root = info.rootfsPath;
    assert.equal(root, join(dir, 'busybox', 'rootfs'));
    assert.match(info.digest, /^[0-9a-f]{64}$/);
    assert.ok(info.sizeBytes > 500_000, `size ${info.sizeBytes}`);
    assert.deepEqual(info.defaults.argv, ['sleep', 'infinity']);
    assert.equal(info.defaults.user, 'sandbox');
    assert.equal((await stat(join(root, 'bin/busybox'))).mode & 0o777, 0o755);
    for (const applet of ['bin/sh', 'bin/ls', 'bin/cat', 'bin/sleep']) {
      assert.equal(await readlink(join(root, applet)), '/bin/busybox', applet);
    }
    for (const dir777 of ['tmp', 'var/tmp', 'run/lock', 'dev/shm']) {
      assert.equal((await stat(join(root, dir777))).mode & 0o7777, 0o1777, dir777);
    }
    for (const d of ['proc', 'sys', 'dev', 'home/sandbox'])
      assert.ok((await stat(join(root, d))).isDirectory(), d);
    assert.match(
      await readFile(join(root, 'etc/passwd'), 'utf8'),
      /^sandbox:x:1000:1000:.*:\/home\/sandbox:/m,
    );
    assert.match(await readFile(join(root, 'etc/group'), 'utf8'), /^sandbox:x:1000:/m);
    assert.equal((await stat(join(root, 'home/sandbox'))).uid, 1000);
    assert.ok((await lstat(join(root, 'etc/resolv.conf'))).isFile());
    const stored = JSON.parse(await readFile(join(dir, 'busybox', 'template.json'), 'utf8'));
    assert.equal(stored.digest, info.digest);
    // The root really works: its shell and user database, run by the static busybox.
    const id = await runCommand([
      'chroot',
      root,
      '/bin/sh',
      '-c',
      'id sandbox; echo ok > /dev/null',
    ]);
    assert.match(id.stdout, /uid=1000\(sandbox\) gid=1000\(sandbox\)/);
  });
});

test('an unknown template name is an InvalidArgumentError naming the known ones', async () => {
  await withDir(async (dir) => {
    const store = new TemplateStore({ dir });
    await assert.rejects(store.ensure('ubuntu'), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /busybox, debian, python/);
      return true;
    });
  });
});

test(
  'concurrent ensure() calls share one build; a second store waits on the lock',
  { skip },
  async () => {
    await withDir(async (dir) => {
      const events: TemplateProgress[] = [];
      const store = new TemplateStore({ dir, onProgress: (p) => events.push(p) });
      const other = new TemplateStore({ dir, onProgress: (p) => events.push(p) });
      const [a, b, c] = await Promise.all([
        store.ensure('busybox'),
        store.ensure('busybox'),
        other.ensure('busybox'),
      ]);
      // Whichever store took the lock first built it; the other found it built.
      assert.equal(events.filter((e) => e.phase === 'prepare').length, 1);
      assert.equal(a.builtAtMs, b.builtAtMs);
      assert.equal(a.digest, c.digest);
      const entries = await readdir(dir);
      assert.deepEqual(
        entries.filter((e) => e.startsWith('.build-') || e.endsWith('.lock')),
        [],
      );
    });
  },
);

test('a cancelled build leaves nothing behind', { skip }, async () => {
  await withDir(async (dir) => {
    const controller = new AbortController();
    const store = new TemplateStore({ dir });
    await assert.rejects(
      store.ensure('busybox', { signal: controller.signal, onProgress: () => controller.abort() }),
      (err: Error) => err.name === 'AbortError',
    );
    assert.deepEqual(
      (await readdir(dir)).filter((e) => e !== '.cache'),
      [],
    );
    assert.equal(await store.get('busybox'), undefined);
  });
});

test(
  'a partial template dir and a crashed build dir are cleaned up by the next build',
  { skip },
  async () => {
    await withDir(async (dir) => {
      await mkdir(join(dir, 'busybox', 'rootfs'), { recursive: true });
      await writeFile(join(dir, 'busybox', 'rootfs', 'junk'), 'half a build');
      await mkdir(join(dir, '.build-busybox-crashed', 'rootfs'), { recursive: true });
      const store = new TemplateStore({ dir });
      assert.equal((await store.list()).find((t) => t.name === 'busybox')?.built, false);
      const info = await store.ensure('busybox');
      await assert.rejects(stat(join(info.rootfsPath, 'junk')), { code: 'ENOENT' });
      assert.deepEqual(
        (await readdir(dir)).filter((e) => e.startsWith('.build-')),
        [],
      );
      assert.equal((await store.list()).find((t) => t.name === 'busybox')?.built, true);
    });
  },
);

test(
  'a lock left by a dead process is taken over; force rebuilds; remove deletes',
  { skip },
  async () => {
    await withDir(async (dir) => {
      const dead = await runCommand(['sh', '-c', 'echo $$']);
      await writeFile(join(dir, '.busybox.lock'), dead.stdout);
      const store = new TemplateStore({ dir });
      const first = await store.ensure('busybox');
      const again = await store.build('busybox', { force: true });
      assert.ok(again.builtAtMs >= first.builtAtMs);
      assert.equal(again.digest, first.digest);
      await store.remove('busybox');
      assert.equal(await store.get('busybox'), undefined);
      assert.deepEqual(
        (await readdir(dir)).filter((e) => e !== '.cache'),
        [],
      );
    });
  },
);
