// Per-user kernel limits are not shared across sandboxes: sandbox A (its `sandbox` user, uid 1000
// inside) exhausts the per-user inotify instances (fs.inotify.max_user_instances) and holds them;
// sandbox B's same user still gets one. Under runc each sandbox is its own host uid range (a user
// namespace over an idmapped template, sandbox/uid-ranges.ts); under gVisor the sentry's kernel
// keeps the count. Before, both were host uid 1000 and B failed with EMFILE. Under gVisor the
// runtime itself runs in the sandbox's user namespace: its gofer and sentry are the sandbox's own
// host uids, not root and the `nobody` every gVisor sandbox shared (with its process count).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ownCgroupDirs } from '../../cgroups/v1.js';
import { testRuntime, type TestRuntime } from '../../testing/runtime.js';
import { UID_RANGE_SIZE, UID_RANGE_START } from '../../sandbox/uid-ranges.js';

let t: TestRuntime;
let available: Record<string, { ok: boolean; reason?: string }> = {};
before(async () => {
  t = await testRuntime();
  available = await t.runtime.available();
});
after(() => t.dispose());

const INOTIFY = (n: number, hold: boolean) =>
  `import ctypes, os, sys, time\nlibc = ctypes.CDLL(None, use_errno=True)\nfds = []\nfor i in range(${n}):\n` +
  `    fd = libc.inotify_init()\n    if fd < 0:\n        print('failed', len(fds), os.strerror(ctypes.get_errno()), flush=True); sys.exit(3)\n    fds.append(fd)\n` +
  `print('held', len(fds), flush=True)\n${hold ? 'time.sleep(120)\n' : ''}`;

for (const runtime of ['container', 'gvisor'] as const) {
  test(`${runtime}: one sandbox exhausting a per-user kernel limit leaves another's same user unaffected`, async (c) => {
    if (available[runtime]?.ok === false) return c.skip(`runtime ${runtime} unavailable: ${available[runtime]?.reason}`);
    const max = Number((await readFile('/proc/sys/fs/inotify/max_user_instances', 'utf8')).trim());
    const a = await t.runtime.createSandbox({ runtime, template: 'python' });
    const b = await t.runtime.createSandbox({ runtime, template: 'python' });
    try {
      await Promise.all([a.start(), b.start()]);
      let out = '';
      let held: () => void = () => undefined;
      const holding = new Promise<void>((r) => (held = r));
      // Resolved on a whole line: output may arrive in pieces.
      const hog = await a.exec({ argv: ['python3', '-c', INOTIFY(max, true)], onOutput: (ch) => ((out += ch.data.toString()), /(held|failed)[^\n]*\n/.test(out) && held()) });
      await holding;
      assert.match(out, new RegExp(`held ${max}`), `sandbox A holds the host's per-user maximum (${max}): ${out}`);
      const other = await (await b.exec({ argv: ['python3', '-c', INOTIFY(1, false)] })).wait();
      assert.equal(other.stdout.toString().trim(), 'held 1', `sandbox B: ${other.stdout.toString()}${other.stderr.toString()}`);
      await hog.kill('SIGKILL');
      if (runtime === 'container') {
        const map = async (s: typeof a) => (await (await s.exec({ argv: ['cat', '/proc/self/uid_map'] })).wait()).stdout.toString().trim().split(/\s+/).map(Number);
        const [ma, mb] = await Promise.all([map(a), map(b)]);
        assert.equal(ma[0], 0);
        assert.equal(ma[2], UID_RANGE_SIZE);
        assert.ok((ma[1] ?? 0) >= UID_RANGE_START && (mb[1] ?? 0) >= UID_RANGE_START, `host ranges ${ma[1]}, ${mb[1]}`);
        assert.notEqual(ma[1], mb[1], 'each sandbox has its own host uid range');
      } else {
        const [ua, ub] = await Promise.all([runtimeUids(a.id), runtimeUids(b.id)]);
        const base = (uids: Map<string, number>) => (uids.get('runsc-gofer') ?? 0) - UID_RANGE_START;
        for (const [name, uids] of [['A', ua], ['B', ub]] as const) {
          assert.deepEqual([...uids.keys()].sort(), ['runsc', 'runsc-gofer', 'runsc-sandbox'], `sandbox ${name}'s runtime processes`);
          assert.ok(base(uids) >= 0 && base(uids) % UID_RANGE_SIZE === 0, `sandbox ${name}'s gofer is the root of its own range: ${[...uids]}`);
          assert.equal(uids.get('runsc-sandbox'), (uids.get('runsc-gofer') ?? 0) + 65534, `sandbox ${name}'s sentry is its range's nobody`);
          assert.equal(uids.get('runsc'), uids.get('runsc-gofer'), `sandbox ${name}'s runsc runs as its range's root`);
        }
        assert.notEqual(base(ua), base(ub), 'each sandbox has its own host uid range');
      }
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });
}

/** The real host uid of each runtime process (by name) in the sandbox's cgroup. */
async function runtimeUids(id: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const pids = (await readFile(`${ownCgroupDirs(id)[0]}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean);
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const name = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0];
    const uid = /^Uid:\s*(\d+)/m.exec(status)?.[1];
    if (name && uid && name.startsWith('runsc')) {
      const prev = out.get(name);
      assert.ok(prev === undefined || prev === Number(uid), `every ${name} process of ${id} has one uid`);
      out.set(name, Number(uid));
    }
  }
  return out;
}
