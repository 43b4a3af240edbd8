// gVisor memory snapshots on real runsc: a process counting in memory goes on in the source after
// its snapshot and in each sandbox made from it, from where it was; files of the writable layer and
// of /tmp come along; copies are each their own; a busy sandbox and one with a network say why
// not; a sandbox made from one is adopted by a new Runtime. Skipped with the reason printed where
// runsc cannot run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxHandle } from '../../driver.js';
import { assertNoLeaks, snapshotHost, type HostSnapshot } from '../../testing/leaks.js';
import { testRuntime, TEST_TMP_PREFIX, type TestRuntime } from '../../testing/runtime.js';
import { GvisorDriver } from './driver.js';

const availability = await new GvisorDriver({ stateDir: '/nonexistent-probe-only' }).available();
const skip = availability.ok ? false : `gvisor unavailable: ${availability.reason}`;
if (skip) console.log(`# gvisor memory snapshot tests skipped: ${skip}`);

describe('gvisor memory snapshots', { skip }, () => {
  let t: TestRuntime;
  let host: HostSnapshot;
  let dir: string;
  let sb: SandboxHandle;
  // The main process counts in memory (a shell variable) and writes the count where a file call reads it.
  const counter = 'n=0; while :; do n=$((n+1)); echo $n > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.02; done';
  const count = async (s: SandboxHandle): Promise<number> => Number((await s.files.read('/tmp/count')).toString().trim());
  const goesOn = async (s: SandboxHandle): Promise<void> => {
    const first = await count(s);
    let later = first;
    for (const until = Date.now() + 20_000; later <= first && Date.now() < until; ) later = await count(s);
    assert.ok(later > first, `the count stays at ${first}`);
  };
  const pids = async (s: SandboxHandle): Promise<string> => (await (await s.exec({ argv: ['sh', '-c', 'pidof sh | tr " " "\\n" | sort -n | head -1'] })).wait()).stdout.toString().trim();

  before(async () => {
    host = await snapshotHost();
    t = await testRuntime();
    dir = await mkdtemp(join(tmpdir(), TEST_TMP_PREFIX));
    sb = await t.runtime.createSandbox({ id: `gck-${process.pid.toString(36)}`, template: 'busybox', runtime: 'gvisor', command: ['sh', '-c', counter], limits: { cpu: 1, memoryMiB: 128, diskMiB: 32 } });
    await sb.start();
  });
  after(async () => {
    await sb?.destroy();
    await t?.dispose();
    await rm(dir, { recursive: true, force: true });
    await assertNoLeaks(host, { path: t?.stateDir, idPrefix: 'gck-' });
  });

  test('the source goes on after its snapshot; copies go on from where it was, with its files, each its own', async () => {
    // (The layer's /etc is root's.)
    await (await sb.exec({ argv: ['sh', '-c', 'echo in the layer > /etc/note; chmod 666 /etc/note'], user: 'root' })).wait();
    await sb.files.write('/tmp/note', 'in /tmp\n');
    const sourcePid = await pids(sb);
    const tar = join(dir, 'memory.tar');
    await assert.rejects(sb.snapshotMemory!(tar, { maxBytes: 1024 }), { code: 'quota_exceeded' });
    assert.equal(sb.state(), 'running', 'a refused snapshot leaves it running');
    const at = await count(sb);
    const { sizeBytes } = await sb.snapshotMemory!(tar);
    assert.ok(sizeBytes > 1024, `${sizeBytes} bytes`);
    // The source: the same process, still counting.
    assert.equal(await pids(sb), sourcePid);
    await goesOn(sb);
    const copies: SandboxHandle[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const copy = await t.runtime.createSandbox({ id: `gck-${process.pid.toString(36)}-${i}`, template: 'busybox', runtime: 'gvisor', seed: tar, limits: { cpu: 1, memoryMiB: 128, diskMiB: 32 } });
        copies.push(copy);
        await copy.start();
        const first = await count(copy);
        assert.ok(first >= at, `the copy's count ${first} is from before the snapshot (${at})`);
        await goesOn(copy);
        assert.equal(await pids(copy), sourcePid, "the source's process");
        assert.equal((await copy.files.read('/etc/note')).toString(), 'in the layer\n');
        assert.equal((await copy.files.read('/tmp/note')).toString(), 'in /tmp\n');
      }
      // Each its own.
      await copies[0]!.files.write('/etc/note', 'copy 0\n');
      assert.deepEqual(
        [(await copies[1]!.files.read('/etc/note')).toString(), (await sb.files.read('/etc/note')).toString()],
        ['in the layer\n', 'in the layer\n'],
      );
      // A copy's end is its main's, as for any sandbox.
      await copies[1]!.kill({ graceMs: 0, signal: 'SIGKILL' });
      assert.equal((await copies[1]!.wait()).reason, 'killed');
    } finally {
      for (const c of copies) await c.destroy();
    }
  });

  test('a running command refuses a memory snapshot; a runc sandbox is not made from one', async () => {
    const sleeper = await sb.exec({ argv: ['sleep', '30'] });
    const tar = join(dir, 'busy.tar');
    await assert.rejects(sb.snapshotMemory!(tar), (err: Error & { code?: string }) => err.code === 'conflict' && /1 command\(s\) running/.test(err.message));
    await sleeper.kill('SIGKILL');
    await sleeper.wait();
    await sb.snapshotMemory!(tar);
    await assert.rejects(t.runtime.createSandbox({ template: 'busybox', runtime: 'container', seed: tar }), (err: Error & { code?: string }) => err.code === 'invalid_argument' && /use runtime gvisor/.test(err.message));
    await goesOn(sb);
  });
});
