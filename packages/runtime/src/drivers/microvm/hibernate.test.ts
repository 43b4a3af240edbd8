// Hibernation of a microVM on real QEMU: a process counting in memory keeps counting across
// hibernate/wake cycles (E2B issue 884: state lost after repeated pause/resume), files survive,
// exec and files wake the VM by themselves, a command running refuses, and a hibernated VM is
// adopted by a new Runtime and woken there. Skipped with the reason printed where QEMU cannot run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxHandle } from '../../driver.js';
import { Runtime } from '../../runtime.js';
import { assertNoLeaks, snapshotHost, type HostSnapshot } from '../../testing/leaks.js';
import { testRuntime, TEST_TMP_PREFIX, type TestRuntime } from '../../testing/runtime.js';
import { testTemplateDir } from '../../testing/index.js';
import { MicrovmDriver } from './driver.js';
import { vmPaths } from './paths.js';

const availability = await new MicrovmDriver({ stateDir: '/nonexistent-probe-only' }).available();
const skip = availability.ok ? false : `microvm unavailable: ${availability.reason}`;
if (skip) console.log(`# microvm hibernation tests skipped: ${skip}`);

/** Hibernate/wake cycles (E2B's report was of state lost after repeated pause/resume). */
const CYCLES = 100;

describe('microvm hibernation', { skip }, () => {
  let t: TestRuntime;
  let snapshot: HostSnapshot;
  let sb: SandboxHandle;
  const id = `hb-${process.pid.toString(36)}`;
  // The main process counts in memory (a shell variable) and writes the count where exec can read it.
  const counter = 'n=0; while :; do n=$((n+1)); echo $n > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.01; done';

  before(async () => {
    snapshot = await snapshotHost();
    t = await testRuntime();
    sb = await t.runtime.createSandbox({
      id,
      template: 'busybox',
      runtime: 'microvm',
      command: ['sh', '-c', counter],
      limits: { cpu: 1, memoryMiB: 64, diskMiB: 16 },
    });
    await sb.start();
  });
  after(async () => {
    await sb?.destroy();
    await t?.dispose();
    await assertNoLeaks(snapshot, { path: t?.stateDir, idPrefix: 'hb-' });
  });

  const count = async (): Promise<number> => Number((await sb.files.read('/tmp/count')).toString().trim());
  const pid = async (): Promise<string> => (await (await sb.exec({ argv: ['sh', '-c', 'pidof sh | tr " " "\\n" | sort -n | head -1'] })).wait()).stdout.toString().trim();

  test(`a counting process keeps counting over ${CYCLES} hibernate/wake cycles; files and its pid stay`, async () => {
    await sb.files.write('/tmp/kept', 'kept across hibernation\n');
    const firstPid = await pid();
    let last = await count();
    const dir = vmPaths(join(t.stateDir, 'microvm'), id).dir;
    const took = { hibernate: 0, wake: 0, bytes: 0 };
    for (let i = 0; i < CYCLES; i++) {
      let at = Date.now();
      const { stateBytes } = await sb.hibernate!();
      took.hibernate += Date.now() - at;
      took.bytes = stateBytes;
      assert.ok(stateBytes > 0);
      assert.equal(sb.hibernated, true);
      assert.deepEqual(await sb.stats(), { cpuUsageNs: (await sb.stats()).cpuUsageNs, memoryBytes: 0, pids: 0 });
      await stat(join(dir, 'memory.state'));
      // Every other cycle the exec wakes it; else an explicit wake.
      at = Date.now();
      if (i % 2 === 0) await sb.wake!();
      const now = await count();
      took.wake += Date.now() - at;
      assert.equal(sb.hibernated, false);
      assert.ok(now >= last, `cycle ${i}: the count went back from ${last} to ${now}`);
      // It keeps counting after the wake (one step takes a while under software emulation): seen every tenth cycle.
      if (i % 10 !== 9 && i !== CYCLES - 1) {
        last = now;
        continue;
      }
      let later = now;
      for (const until = Date.now() + 20_000; later <= now && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 20));
        later = await count();
      }
      assert.ok(later > now, `cycle ${i}: the count stopped at ${now}`);
      last = later;
    }
    console.log(`# ${CYCLES} cycles: hibernate ${Math.round(took.hibernate / CYCLES)} ms, wake to first read ${Math.round(took.wake / CYCLES)} ms on average; state ${(took.bytes / 2 ** 20).toFixed(1)} MiB`);
    assert.equal((await sb.files.read('/tmp/kept')).toString(), 'kept across hibernation\n');
    assert.equal(await pid(), firstPid, 'the same process');
    await assert.rejects(stat(join(dir, 'memory.state')), /ENOENT/, 'the saved state is removed once woken');
  });

  test("the guest's clock is set on waking (it stood still while the VM slept)", async () => {
    await sb.hibernate!();
    await new Promise((r) => setTimeout(r, 4000));
    await sb.wake!();
    let skew = Infinity;
    for (const until = Date.now() + 10_000; Math.abs(skew) > 2 && Date.now() < until; ) {
      const guest = Number((await (await sb.exec({ argv: ['date', '+%s'] })).wait()).stdout.toString().trim());
      skew = guest - Date.now() / 1000;
    }
    assert.ok(Math.abs(skew) <= 2, `the guest's clock is ${skew.toFixed(1)} s off`);
  });

  test('a running command refuses a hibernation, which then works once it ends', async () => {
    const sleeper = await sb.exec({ argv: ['sleep', '30'] });
    await assert.rejects(sb.hibernate!(), (err: Error & { code?: string }) => err.code === 'conflict' && /1 command\(s\) running/.test(err.message));
    await sleeper.kill('SIGKILL');
    await sleeper.wait();
    await sb.hibernate!();
    assert.equal(sb.hibernated, true);
  });

  test('a memory snapshot: VMs started from it go on counting from where it was, each on its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), TEST_TMP_PREFIX));
    const copies: SandboxHandle[] = [];
    try {
      const tar = join(dir, 'memory.tar');
      await assert.rejects(sb.snapshotMemory!(tar, { maxBytes: 1024 }), { code: 'quota_exceeded' });
      const at = await count();
      const { sizeBytes } = await sb.snapshotMemory!(tar);
      assert.ok(sizeBytes > 1024, `${sizeBytes} bytes`);
      const sourcePid = await pid();
      for (let i = 0; i < 2; i++) {
        // Asked for other limits: the copy is of the snapshot's shape.
        const copy = await t.runtime.createSandbox({ template: 'busybox', runtime: 'microvm', seed: tar, limits: { cpu: 1, memoryMiB: 256, diskMiB: 16 } });
        copies.push(copy);
        await copy.start();
        const c = async (): Promise<number> => Number((await copy.files.read('/tmp/count')).toString().trim());
        const first = await c();
        assert.ok(first >= at, `the copy's count ${first} is from before the snapshot (${at})`);
        let later = first;
        for (const until = Date.now() + 20_000; later <= first && Date.now() < until; ) later = await c();
        assert.ok(later > first, 'the copy goes on counting');
        assert.equal((await (await copy.exec({ argv: ['sh', '-c', 'pidof sh | tr " " "\\n" | sort -n | head -1'] })).wait()).stdout.toString().trim(), sourcePid, "the source's process");
      }
      // A files snapshot's copy gets the disk it asks for (grown from the source's 16 MiB).
      const files = join(dir, 'files.tar');
      await sb.snapshotFiles!(files);
      const bigger = await t.runtime.createSandbox({ template: 'busybox', runtime: 'microvm', seed: files, limits: { cpu: 1, memoryMiB: 64, diskMiB: 64 } });
      copies.push(bigger);
      await bigger.start();
      const df = (await (await bigger.exec({ argv: ['sh', '-c', "df -k / | tail -1 | awk '{print $2}'"] })).wait()).stdout.toString().trim();
      assert.ok(Number(df) > 48 * 1024, `the copy's disk is ${df} KiB`);
      assert.equal((await bigger.files.read('/tmp/kept')).toString(), 'kept across hibernation\n');
      await copies[0]!.files.write('/tmp/mine', 'first\n');
      await assert.rejects(copies[1]!.files.read('/tmp/mine'), { code: 'not_found' });
      await assert.rejects(sb.files.read('/tmp/mine'), { code: 'not_found' });
      assert.ok((await count()) >= at, 'the source goes on');
    } finally {
      for (const c of copies) await c.destroy();
      await rm(dir, { recursive: true, force: true });
    }
    await sb.hibernate!();
  });

  test('a hibernated VM is listed as such, adopted by another Runtime, woken there by exec, and killed', async () => {
    assert.equal(sb.hibernated, true);
    const info = (await t.runtime.list()).find((s) => s.id === id);
    assert.deepEqual(info, { id, runtime: 'microvm', state: 'running', hibernated: true });
    const other = new Runtime({ stateDir: t.stateDir, templateDir: testTemplateDir() });
    try {
      const adopted = await other.adopt('microvm', id);
      assert.equal(adopted.hibernated, true);
      const before = await (await adopted.exec({ argv: ['cat', '/tmp/count'] })).wait();
      assert.equal(adopted.hibernated, false);
      assert.ok(Number(before.stdout.toString()) > 0);
      await adopted.kill({ graceMs: 1000 });
      const r = await adopted.wait();
      assert.equal(r.reason, 'killed');
      sb = adopted;
    } finally {
      await other.close();
    }
  });
});
