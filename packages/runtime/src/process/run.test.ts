import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, startProcess } from './run.js';
import { InternalError, TimeoutError } from '@tartarus/core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_TMP_PREFIX } from '../testing/runtime.js';

test('runCommand returns output and passes argv without a shell', async () => {
  const r = await runCommand(['printf', '%s|', 'a b', '$HOME', ';ls']);
  assert.equal(r.stdout, 'a b|$HOME|;ls|');
  assert.equal(r.exitCode, 0);
});

test('runCommand throws InternalError with the stderr tail on a non-zero exit', async () => {
  await assert.rejects(runCommand(['sh', '-c', 'echo boom >&2; exit 3']), (e: unknown) => {
    return e instanceof InternalError && /boom/.test(e.message) && /\(3\)/.test(e.message);
  });
  const r = await runCommand(['sh', '-c', 'exit 4'], { allowNonZero: true });
  assert.equal(r.exitCode, 4);
});

/** True when `pid` is gone, a zombie, or has SIGKILL pending: it will not run again. */
async function killed(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  if (!status || /^State:\s+Z/m.test(status)) return true;
  const pending = [...status.matchAll(/^(?:SigPnd|ShdPnd):\s+([0-9a-f]+)/gm)].map((m) => BigInt(`0x${m[1]}`));
  return pending.some((mask) => (mask & (1n << 8n)) !== 0n); // bit 8 = signal 9
}

test('runCommand kills the whole process group on timeout', async () => {
  // The grandchild leaves the pipes, so only the group kill (not the end of output) can stop it;
  // checked by its state rather than by how long the call took.
  const dir = await mkdtemp(join(tmpdir(), TEST_TMP_PREFIX));
  const pidFile = join(dir, 'pid');
  let pid = 0;
  try {
    const script = `sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}; sleep 1000`;
    // Long enough for sh to have written the pid file on a loaded machine.
    await assert.rejects(runCommand(['sh', '-c', script], { timeoutMs: 2000 }), TimeoutError);
    pid = Number(await readFile(pidFile, 'utf8'));
    assert.ok(pid > 0 && (await killed(pid)), `the background sleep ${pid} survived the timeout`);
  } finally {
    if (pid > 0 && !(await killed(pid))) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('output past the cap is dropped and flagged', async () => {
  const r = await runCommand(['head', '-c', '100000', '/dev/zero'], { maxOutputBytes: 1000 });
  assert.equal(r.stdout.length, 1000);
  assert.equal(r.stdoutTruncated, true);
});

test('a missing program is reported, not thrown from the event loop', async () => {
  const p = startProcess(['/nonexistent/tartarus-nope']);
  const exit = await p.wait();
  assert.ok(exit.spawnError);
  await assert.rejects(runCommand(['/nonexistent/tartarus-nope']), InternalError);
});

test('stdin is written and closed', async () => {
  const r = await runCommand(['cat'], { stdin: 'hello' });
  assert.equal(r.stdout, 'hello');
});
