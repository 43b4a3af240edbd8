import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ALLOWED_GROUPS, DENIED_GROUPS, FILTERED_SYSCALLS, seccompProfile } from './seccomp.js';

const TABLE = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

test("every syscall of the kernel's x86_64 table is in exactly one group (allowed, denied or filtered)", async (t) => {
  const text = await readFile(TABLE, 'utf8').catch(() => undefined);
  if (text === undefined) return t.skip(`${TABLE} is missing (Debian's linux-libc-dev, a dependency of libc6-dev)`);
  const table = [...text.matchAll(/^#define __NR_(\w+) \d+$/gm)].map((m) => m[1] as string);
  assert.ok(table.length > 300, `${table.length} syscalls read`);
  const groups = [...Object.values(ALLOWED_GROUPS), ...Object.values(DENIED_GROUPS)].flatMap((g) => g.names);
  const classified = [...groups, ...FILTERED_SYSCALLS];
  const twice = classified.filter((n, i) => classified.indexOf(n) !== i);
  assert.deepEqual(twice, [], 'in more than one group');
  const missing = table.filter((n) => !classified.includes(n));
  assert.deepEqual(missing, [], 'a syscall of the table is in no group: decide whether a sandbox gets it');
  const unknown = classified.filter((n) => !table.includes(n));
  assert.deepEqual(unknown, [], 'a group names a syscall the table does not have');
  for (const [name, g] of Object.entries({ ...ALLOWED_GROUPS, ...DENIED_GROUPS })) assert.ok(g.reason.length > 10, `group ${name} says why`);
});

test('the profile: default deny, native ABI only, Docker-style argument filters (golden)', () => {
  const p = seccompProfile();
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64']);
  const allowed = p.syscalls.find((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args)?.names ?? [];
  for (const s of ['read', 'execve', 'openat', 'mmap', 'futex', 'epoll_wait', 'connect', 'prctl', 'seccomp']) assert.ok(allowed.includes(s), s);
  for (const s of ['io_uring_setup', 'bpf', 'mount', 'unshare', 'setns', 'ptrace', 'keyctl', 'userfaultfd', 'perf_event_open', 'kexec_load']) {
    assert.ok(!p.syscalls.some((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(s)), `${s} is not allowed`);
  }
  assert.deepEqual(p.syscalls.filter((r) => r.names.includes('clone')), [
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
  ]);
  assert.deepEqual(p.syscalls.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  assert.deepEqual(p.syscalls.filter((r) => r.names[0] === 'socket').map((r) => r.args?.[0]?.value), [1, 2, 10, 16]);
  assert.deepEqual(p.syscalls.filter((r) => r.names[0] === 'personality').map((r) => r.args?.[0]?.value), [0, 8, 0x20000, 0x20008, 0xffffffff]);
});
