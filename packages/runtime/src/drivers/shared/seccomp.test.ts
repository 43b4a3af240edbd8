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

test('the compiled program: the table matches the kernel header; short forward jumps; every allowed syscall reaches an allow', async (t) => {
  const { SYSCALL_NUMBERS } = await import('./syscalls-x86_64.js');
  const { seccompProgram, seccompBpf, ranges } = await import('./seccomp-bpf.js');
  const text = await readFile(TABLE, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    const table = Object.fromEntries([...text.matchAll(/^#define __NR_(\w+) (\d+)$/gm)].map((m) => [m[1] as string, Number(m[2])]));
    assert.deepEqual(SYSCALL_NUMBERS, table, 'syscalls-x86_64.ts is the header, number for number');
  } else t.diagnostic(`${TABLE} missing: the table is checked against the header where it exists`);
  const prog = seccompProgram();
  assert.ok(prog.length < 200, `${prog.length} instructions`);
  assert.equal(seccompBpf().length, prog.length * 8);
  assert.deepEqual(ranges([5, 1, 2, 3, 9, 10]), [[1, 3], [5, 5], [9, 10]]);
  // Run the program (a tiny classic-BPF interpreter over seccomp_data) on every syscall of the table.
  const run = (nr: number, arch = 0xc000003e, arg0 = 0n): number => {
    const data = Buffer.alloc(64);
    data.writeInt32LE(nr, 0);
    data.writeUInt32LE(arch, 4);
    data.writeBigUInt64LE(arg0, 16);
    let a = 0;
    for (let pc = 0; pc < prog.length; ) {
      const [code, jt, jf, k] = prog[pc] as [number, number, number, number];
      if (code === 0x20) a = data.readUInt32LE(k);
      else if (code === 0x54) a = (a & k) >>> 0;
      else if (code === 0x06) return k >>> 0;
      else {
        const hit = code === 0x15 ? a === k >>> 0 : code === 0x35 ? a >= k >>> 0 : code === 0x25 ? a > k >>> 0 : false;
        pc += 1 + (hit ? jt : jf);
        continue;
      }
      pc += 1;
    }
    throw new Error('fell off the program');
  };
  const ALLOW = 0x7fff0000;
  const EPERM = 0x50001;
  for (const [name, g] of Object.entries(ALLOWED_GROUPS)) {
    for (const s of g.names) assert.equal(run(SYSCALL_NUMBERS[s] as number), ALLOW, `${name}: ${s}`);
  }
  for (const g of Object.values(DENIED_GROUPS)) for (const s of g.names) assert.equal(run(SYSCALL_NUMBERS[s] as number), EPERM, s);
  assert.equal(run(999), 0x50026, 'a syscall newer than the table: ENOSYS, so libc falls back');
  assert.equal(run(335), EPERM, 'a gap in the table');
  assert.equal(run(0, 0x40000003), 0x80000000, 'i386: killed');
  assert.equal(run(0x40000000 | 425), 0x80000000, 'x32: killed');
  const n = (s: string) => SYSCALL_NUMBERS[s] as number;
  assert.equal(run(n('clone'), undefined, 0x11n), ALLOW, 'clone for a thread or fork');
  assert.equal(run(n('clone'), undefined, 0x10000000n), EPERM, 'clone with CLONE_NEWUSER');
  assert.equal(run(n('clone3')), 0x50026, 'clone3: ENOSYS');
  assert.equal(run(n('socket'), undefined, 2n), ALLOW);
  assert.equal(run(n('socket'), undefined, 40n), EPERM, 'AF_VSOCK');
  assert.equal(run(n('socket'), undefined, (1n << 32n) | 2n), EPERM, 'a family with high bits set');
  assert.equal(run(n('personality'), undefined, 0xffffffffn), ALLOW);
  assert.equal(run(n('personality'), undefined, 0x0400000n), EPERM, 'READ_IMPLIES_EXEC');
});
