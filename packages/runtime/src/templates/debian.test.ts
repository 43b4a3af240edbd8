// The templates debootstrap builds: debian, and python on top of it. Both need root and debootstrap.
// The python template is built in the shared cache (TARTARUS_TEMPLATE_DIR, default
// /var/cache/tartarus/templates) so a machine pays for the build once; later runs reuse it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalError } from '@tartarus/core';
import { runCommand } from '../process/run.js';
import { mountsBelow } from './fs-safe.js';
import { defaultTemplateDir } from './layout.js';
import { TemplateStore } from './store.js';
import type { TemplateProgress } from './types.js';

const debootstrap = await runCommand(['debootstrap', '--version']).then(
  () => true,
  () => false,
);
const skip =
  process.getuid?.() !== 0
    ? 'needs root (debootstrap, chroot)'
    : debootstrap
      ? false
      : 'debootstrap is not installed';
if (skip) console.log(`# debian and python template tests skipped: ${skip}`);

/** Pids whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

test(
  'a debootstrap build cancelled mid-download leaves no template, build dir, lock, mount or process',
  { skip, timeout: 10 * 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tartarus-templates-'));
    try {
      const controller = new AbortController();
      const store = new TemplateStore({ dir });
      const onProgress = (p: { phase: string }): void => {
        if (p.phase === 'download') controller.abort();
      };
      await assert.rejects(
        store.ensure('debian', { signal: controller.signal, onProgress }),
        (err: Error) => err.name === 'AbortError',
      );
      // Only the download cache stays (by design: files in it are checksummed before reuse).
      assert.deepEqual(
        (await readdir(dir)).filter((e) => e !== '.cache'),
        [],
      );
      assert.deepEqual(await mountsBelow(dir), []);
      assert.deepEqual(await processesMentioning(dir), []);
      assert.equal(await store.get('debian'), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  'debian template: minbase bookworm with the sandbox user, no python',
  { skip, timeout: 30 * 60_000 },
  async () => {
    // Shared cache: built once per machine (and reuses the packages the python build downloaded).
    const info = await new TemplateStore({ dir: defaultTemplateDir() }).ensure('debian');
    const root = info.rootfsPath;
    assert.match(await readFile(join(root, 'etc/debian_version'), 'utf8'), /^12\./);
    const id = await runCommand(['chroot', '--userspec=1000:1000', root, 'id'], {
      env: info.defaults.env,
    });
    assert.match(id.stdout, /uid=1000\(sandbox\) gid=1000\(sandbox\)/);
    await assert.rejects(stat(join(root, 'usr/bin/python3')), { code: 'ENOENT' });
    assert.equal((await stat(join(root, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal(info.defaults.cwd, '/home/sandbox');
  },
);

test(
  'an unreachable mirror fails with a retryable error naming it, leaving nothing',
  { skip, timeout: 5 * 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tartarus-templates-'));
    try {
      // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
      const store = new TemplateStore({ dir, debianMirror: 'http://127.0.0.1:9/debian' });
      await assert.rejects(store.ensure('debian'), (err: unknown) => {
        assert.ok(err instanceof InternalError);
        assert.ok(err.retryable);
        assert.match(err.message, /debootstrap from http:\/\/127\.0\.0\.1:9\/debian failed/);
        return true;
      });
      assert.deepEqual(
        (await readdir(dir)).filter((e) => e !== '.cache'),
        [],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  'python template has python3, numpy and pandas, runnable as the sandbox user',
  { skip, timeout: 30 * 60_000 },
  async () => {
    const events: TemplateProgress[] = [];
    const store = new TemplateStore({ dir: defaultTemplateDir() });
    const info = await store.ensure('python', { onProgress: (p) => events.push(p) });
    if (events.length > 0) {
      // It was built just now: progress went through debootstrap's phases, in order, to the end.
      const phases = new Set(events.map((e) => e.phase));
      for (const phase of ['resolve', 'download', 'install', 'configure', 'finalize'])
        assert.ok(phases.has(phase), phase);
      const fractions = events.flatMap((e) => (e.fraction === undefined ? [] : [e.fraction]));
      assert.deepEqual(
        fractions,
        [...fractions].sort((a, b) => a - b),
      );
      assert.equal(fractions.at(-1), 1);
    }
    const root = info.rootfsPath;
    const run = await runCommand(
      [
        'chroot',
        '--userspec=1000:1000',
        root,
        'python3',
        '-c',
        'import numpy, pandas; print(pandas.DataFrame({"a": numpy.arange(3)}).a.sum())',
      ],
      { env: info.defaults.env, timeoutMs: 60_000 },
    );
    assert.equal(run.stdout.trim(), '3');
    assert.match(
      await readFile(join(root, 'etc/passwd'), 'utf8'),
      /^sandbox:x:1000:1000:.*:\/bin\/bash$/m,
    );
    assert.equal(info.defaults.env.PYTHONUNBUFFERED, '1');
    // Slimmed: no package archives, lists or man pages; resolv.conf is a placeholder, not the host's.
    assert.deepEqual(
      (await readdir(join(root, 'var/cache/apt/archives'))).filter((f) => f.endsWith('.deb')),
      [],
    );
    assert.deepEqual(await readdir(join(root, 'usr/share/man')), []);
    assert.doesNotMatch(await readFile(join(root, 'etc/resolv.conf'), 'utf8'), /nameserver/);
  },
);
