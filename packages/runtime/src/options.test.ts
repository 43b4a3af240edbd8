import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, resolveSandboxOptions } from './options.js';
import type { TemplateInfo } from './templates/types.js';

const template: TemplateInfo = {
  name: 'busybox',
  rootfsPath: '/t/busybox/rootfs',
  defaults: { argv: ['sleep', 'infinity'], env: { PATH: '/bin', HOME: '/home/sandbox' }, cwd: '/home/sandbox', user: 'sandbox', shell: ['/bin/sh', '-c'] },
  digest: 'x',
  sizeBytes: 1,
  builtAtMs: 0,
};

test('defaults come from the template and DEFAULT_LIMITS', () => {
  const s = resolveSandboxOptions({ template: 'busybox' }, template);
  assert.match(s.id, /^sbx_[0-9a-z]{21}$/);
  assert.deepEqual(s.process, { argv: ['sleep', 'infinity'], env: { PATH: '/bin', HOME: '/home/sandbox' }, cwd: '/home/sandbox', user: 'sandbox' });
  assert.deepEqual(s.limits, DEFAULT_LIMITS);
  assert.equal(s.timeoutMs, 0);
  assert.equal(s.outputLimitBytes, 1 << 20);
  assert.equal(s.killGraceMs, 2000);
  assert.equal(s.stdin, undefined);
});

test('a string command runs with the template shell; env is merged; limits are partial', () => {
  const s = resolveSandboxOptions(
    { id: 'a-1', template: 'busybox', command: 'echo $X', env: { X: '1', PATH: '/usr/bin' }, limits: { cpu: 0.25 }, stdin: 'in', user: '1000:1000' },
    template,
  );
  assert.deepEqual(s.process.argv, ['/bin/sh', '-c', 'echo $X']);
  assert.deepEqual(s.process.env, { PATH: '/usr/bin', HOME: '/home/sandbox', X: '1' });
  assert.equal(s.limits.cpu, 0.25);
  assert.equal(s.limits.memoryMiB, DEFAULT_LIMITS.memoryMiB);
  assert.deepEqual(s.stdin, Buffer.from('in'));
  assert.equal(s.process.user, '1000:1000');
});

test('bad values are rejected with what to change', () => {
  const bad: [object, RegExp][] = [
    [{ id: 'UPPER' }, /sandbox id/],
    [{ command: [] }, /argv is empty/],
    [{ command: '  ' }, /empty string/],
    [{ cwd: 'tmp' }, /absolute/],
    [{ user: 'a b' }, /user/],
    [{ env: { 'A=B': 'x' } }, /env name/],
    [{ limits: { cpu: 0 } }, /limits.cpu/],
    [{ limits: { memoryMiB: 1.5 } }, /limits.memoryMiB/],
    [{ limits: { pids: 2 } }, /limits.pids/],
    [{ limits: { diskMiB: 0 } }, /limits.diskMiB/],
    [{ timeoutMs: -1 }, /timeoutMs/],
    [{ outputLimitBytes: 1.5 }, /outputLimitBytes/],
  ];
  for (const [o, msg] of bad) {
    assert.throws(() => resolveSandboxOptions({ template: 'busybox', ...o }, template), { code: 'invalid_argument', message: msg }, JSON.stringify(o));
  }
});
