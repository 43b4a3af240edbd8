import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, startProcess } from './run.js';
import { InternalError, TimeoutError } from '@tartarus/core';

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

test('runCommand kills the whole process group on timeout', async () => {
  const t0 = Date.now();
  await assert.rejects(runCommand(['sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 200 }), TimeoutError);
  assert.ok(Date.now() - t0 < 10_000);
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
