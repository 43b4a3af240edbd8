// The microvm driver's own cases, on real QEMU (the shared conformance suite covers the
// contract). One booted VM serves every case that allows sharing, to keep CI time down under
// software emulation. Skipped with the reason printed where the driver cannot run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxHandle } from '../../driver.js';
import { resolveSandboxOptions } from '../../options.js';
import { assertNoLeaks, snapshotHost, type HostSnapshot } from '../../testing/leaks.js';
import { testRuntime, TEST_TMP_PREFIX, type TestRuntime } from '../../testing/runtime.js';
import { MicrovmDriver } from './driver.js';
import { vmPaths } from './paths.js';
import { qmpCommand } from './qmp.js';
import { UID_RANGE_START } from '../../sandbox/uid-ranges.js';

const availability = await new MicrovmDriver({ stateDir: '/nonexistent-probe-only' }).available();
const skip = availability.ok ? false : `microvm unavailable: ${availability.reason}`;
if (skip) console.log(`# microvm driver tests skipped: ${skip}`);

test('without guest assets, available() says what to run', async () => {
  const dir = await mkdtemp(join(tmpdir(), TEST_TMP_PREFIX));
  try {
    const a = await new MicrovmDriver({ stateDir: dir, assetDir: join(dir, 'none') }).available();
    assert.equal(a.ok, false);
    assert.match(a.ok ? '' : a.reason, /scripts\/setup\.sh/);
    assert.throws(() => new MicrovmDriver({ stateDir: dir, accel: 'fast' as 'kvm' }), {
      code: 'invalid_argument',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('microvm driver', { skip }, () => {
  let t: TestRuntime;
  let snapshot: HostSnapshot;
  let sb: SandboxHandle;
  const id = `mv-${process.pid.toString(36)}`;

  before(async () => {
    snapshot = await snapshotHost();
    t = await testRuntime();
    sb = await t.runtime.createSandbox({
      id,
      template: 'busybox',
      runtime: 'microvm',
      limits: { cpu: 0.5, memoryMiB: 256, diskMiB: 64 },
    });
    await sb.start();
  });
  after(async () => {
    await sb?.destroy();
    await t?.dispose();
    await assertNoLeaks(snapshot, { path: t?.stateDir, idPrefix: 'mv-' });
  });

  const run = async (argv: string[], user = 'root') => (await sb.exec({ argv, user })).wait();

  test('what the guest writes to its console reaches no host file; the state dir is owner-only', async () => {
    const dir = vmPaths(join(t.stateDir, 'microvm'), id).dir;
    const r = await run(['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x > /dev/console; echo written']);
    assert.equal(r.stdout.toString(), 'written\n', r.stderr.toString());
    for (const name of await readdir(dir)) {
      if (name === 'rw.ext4') continue;
      const st = await stat(join(dir, name));
      assert.ok(!st.isFile() || st.size < 64 * 1024, `${name} is ${st.size} bytes`);
    }
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'spec.json'))).mode & 0o077, 0, 'spec.json (the tenant env) is owner-only');
  });

  test('QEMU runs as a host uid of its own (not a user every VM shares)', async () => {
    const pid = (await readFile(vmPaths(join(t.stateDir, 'microvm'), id).pidFile, 'utf8')).trim();
    const uid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
    assert.ok(uid >= UID_RANGE_START, `QEMU runs as ${uid}`);
    const other = await t.runtime.createSandbox({ template: 'busybox', runtime: 'microvm', limits: { cpu: 0.5, memoryMiB: 128, diskMiB: 16 } });
    try {
      await other.start();
      const otherPid = (await readFile(vmPaths(join(t.stateDir, 'microvm'), other.id).pidFile, 'utf8')).trim();
      const otherUid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${otherPid}/status`, 'utf8'))?.[1]);
      assert.notEqual(otherUid, uid, 'two VMs, two uids');
    } finally {
      await other.destroy();
    }
  });

  test('QEMU runs in its own host cgroup sized from the limits', async () => {
    const pid = (await readFile(vmPaths(join(t.stateDir, 'microvm'), id).pidFile, 'utf8')).trim();
    const cg = (h: string, f: string) =>
      readFile(join('/sys/fs/cgroup', h, 'tartarus', id, f), 'utf8').then((s) => s.trim());
    assert.equal(await cg('cpu', 'cpu.cfs_quota_us'), '100000', 'the vCPUs plus QEMU_CPU_OVERHEAD');
    assert.equal(await cg('cpu', 'c/cpu.cfs_quota_us'), '50000', 'the vCPUs: the sandbox limit');
    assert.ok((await cg('cpu', 'c/tasks')).split('\n').length >= 1);
    assert.ok((await cg('pids', 'cgroup.procs')).split('\n').includes(pid));
    assert.ok(Number(await cg('memory', 'memory.limit_in_bytes')) > 256 * 1024 * 1024);
  });

  test('the guest gets whole vCPUs and RAM for the limit; the writable layer is the disk cap', async () => {
    const r = await run([
      'sh',
      '-c',
      'nproc; grep MemTotal /proc/meminfo; df -m / | tail -1; cat /sys/fs/cgroup/w/memory.max',
    ]);
    const [nproc, mem, df, max] = r.stdout.toString().trim().split('\n');
    assert.equal(nproc, '1');
    assert.ok(Number(/(\d+)/.exec(mem ?? '')?.[1]) < 400 * 1024, mem);
    assert.ok(Number(df?.split(/\s+/)[1]) <= 64, df);
    assert.equal(max, String(256 * 1024 * 1024));
  });

  test('many execs at once are multiplexed over one agent connection', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        run(['sh', '-c', `echo ${i}; echo e${i} >&2`], 'sandbox'),
      ),
    );
    results.forEach((r, i) => {
      assert.equal(r.stdout.toString(), `${i}\n`);
      assert.equal(r.stderr.toString(), `e${i}\n`);
    });
  });

  test('files larger than one frame, and a large stdin, arrive intact', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await sb.files.write('/tmp/big.bin', data);
    assert.deepEqual(await sb.files.read('/tmp/big.bin'), data);
    const sum = await run(['sha256sum', '/tmp/big.bin']);
    assert.equal(
      sum.stdout.toString().split(' ')[0],
      createHash('sha256').update(data).digest('hex'),
    );
    const wc = await sb.exec({ argv: ['wc', '-c'], stdin: true });
    await wc.writeStdin(data);
    await wc.closeStdin();
    assert.equal((await wc.wait()).stdout.toString().trim(), String(data.length));
  });

  test('pause stops the whole VM (QMP status) and resume continues it', async () => {
    const qmp = vmPaths(join(t.stateDir, 'microvm'), id).qmpSocket;
    await sb.pause();
    assert.deepEqual(
      await qmpCommand(qmp, 'query-status').then((s) => (s as { status: string }).status),
      'paused',
    );
    await sb.resume();
    assert.equal((await run(['echo', 'back'])).stdout.toString(), 'back\n');
  });

  test('the timeout is enforced from the host even when the guest stops answering', async () => {
    const frozen = await t.runtime.createSandbox({
      id: 'mv-frozen',
      template: 'busybox',
      runtime: 'microvm',
      command: ['sleep', '60'],
      timeoutMs: 1500,
      killGraceMs: 200,
    });
    try {
      await frozen.start();
      // Freeze the VM behind the sandbox's back: the agent cannot deliver the signals.
      await qmpCommand(vmPaths(join(t.stateDir, 'microvm'), 'mv-frozen').qmpSocket, 'stop');
      const r = await frozen.wait();
      assert.equal(r.reason, 'timeout');
      assert.equal(frozen.state(), 'exited');
    } finally {
      await frozen.destroy();
    }
  });

  test("a guest that does not boot is reported with QEMU's reason and leaves nothing", async () => {
    const assetDir = await mkdtemp(join(tmpdir(), TEST_TMP_PREFIX));
    try {
      const real = JSON.parse(
        await readFile(
          join(process.env.TARTARUS_MICROVM_DIR ?? '/var/cache/tartarus/microvm', 'manifest.json'),
          'utf8',
        ),
      ) as Record<string, string>;
      await writeFile(join(assetDir, 'not-a-kernel'), 'nope');
      await writeFile(
        join(assetDir, 'manifest.json'),
        JSON.stringify({ ...real, kernel: join(assetDir, 'not-a-kernel') }),
      );
      const driver = new MicrovmDriver({ stateDir: t.stateDir, assetDir, accel: 'tcg' });
      const template = await t.runtime.templates.ensure('busybox');
      const broken = await driver.create(
        resolveSandboxOptions({ id: 'mv-broken', template: 'busybox' }, template),
      );
      try {
        await assert.rejects(broken.start(), /stopped while booting/);
        assert.equal((await broken.wait()).reason, 'error');
      } finally {
        await broken.destroy();
      }
      assert.deepEqual(await driver.list(), [{ id, runtime: 'microvm', state: 'running' }]);
    } finally {
      await rm(assetDir, { recursive: true, force: true });
    }
  });
});
