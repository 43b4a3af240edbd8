// The python template is built in the shared cache (TARTARUS_TEMPLATE_DIR, default
// /var/cache/tartarus/templates) so a machine pays for the build once; later runs reuse it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../process/run.js';
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
if (skip) console.log(`# python template test skipped: ${skip}`);

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
