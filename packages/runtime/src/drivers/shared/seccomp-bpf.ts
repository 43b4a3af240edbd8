/**
 * The sandbox's seccomp profile (seccomp.ts) compiled to a classic BPF program, once, here: the
 * in-sandbox agent loads it for every workload process just before exec (`tt-init --seccomp`).
 * runc compiling the same profile with libseccomp on every start cost ≈ 6 ms of each sandbox
 * start (measured: a bare `runc run` 22.6 ms, with the profile 28.5 ms); the program is the same
 * for every sandbox, so it is built once per process and kept beside tt-init.
 *
 * Layout (every jump is short and forward: each check's outcome is returned inline):
 *   arch ≠ x86_64 → kill the process (i386 `int 0x80`); nr ≥ 0x40000000 → kill (x32)
 *   clone / clone3 / personality / socket → their argument checks
 *   allowed syscalls as ascending ranges → allow
 *   newer than the table → ENOSYS (libc falls back); anything else → EPERM
 */
import { ALLOWED_GROUPS, CLONE_NS_MASK, PERSONALITIES, SOCKET_FAMILIES } from './seccomp.js';
import { SYSCALL_NUMBERS } from './syscalls-x86_64.js';

const LD_W_ABS = 0x20;
const JEQ = 0x15;
const JGE = 0x35;
const JGT = 0x25;
const AND_K = 0x54;
const RET_K = 0x06;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (errno: number): number => 0x00050000 | errno;
const EPERM = 1;
const ENOSYS = 38;

// offsets in struct seccomp_data
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;
const ARG0_HIGH = 20;

type Insn = [code: number, jt: number, jf: number, k: number];

function nr(name: string): number {
  const n = SYSCALL_NUMBERS[name];
  if (n === undefined) throw new Error(`syscall ${name} is not in the x86_64 table`);
  return n;
}

/** `[lo, hi]` runs of consecutive numbers, ascending. */
export function ranges(numbers: number[]): [number, number][] {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const n of sorted) {
    const last = out.at(-1);
    if (last && last[1] === n - 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}

/** `nr == value` → the block, else past it. */
function guarded(value: number, block: Insn[]): Insn[] {
  return [[JEQ, 0, block.length, value], ...block];
}

/** Loads the low word of arg 0 and allows it when it is one of `values` (high word 0), else EPERM. */
function allowArg0(values: number[]): Insn[] {
  const checks: Insn[] = values.map((v, i) => [JEQ, values.length - i, 0, v]);
  return [[LD_W_ABS, 0, 0, ARG0_HIGH], [JEQ, 1, 0, 0], [RET_K, 0, 0, retErrno(EPERM)], [LD_W_ABS, 0, 0, ARG0_LOW], ...checks, [RET_K, 0, 0, retErrno(EPERM)], [RET_K, 0, 0, RET_ALLOW]];
}

/** The program as instructions. */
export function seccompProgram(): Insn[] {
  const allowed = Object.values(ALLOWED_GROUPS).flatMap((g) => g.names.map(nr));
  const prog: Insn[] = [
    [LD_W_ABS, 0, 0, ARCH],
    [JEQ, 1, 0, AUDIT_ARCH_X86_64],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, NR],
    [JGE, 0, 1, X32_SYSCALL_BIT],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    ...guarded(nr('clone'), [[LD_W_ABS, 0, 0, ARG0_LOW], [AND_K, 0, 0, CLONE_NS_MASK], [JEQ, 0, 1, 0], [RET_K, 0, 0, RET_ALLOW], [RET_K, 0, 0, retErrno(EPERM)]]),
    // A guarded block leaves the accumulator changed: each block returns, so none falls through.
    ...guarded(nr('clone3'), [[RET_K, 0, 0, retErrno(ENOSYS)]]),
    ...guarded(nr('personality'), allowArg0(PERSONALITIES)),
    ...guarded(nr('socket'), allowArg0(SOCKET_FAMILIES)),
  ];
  for (const [lo, hi] of ranges(allowed)) {
    if (lo === hi) prog.push([JEQ, 0, 1, lo], [RET_K, 0, 0, RET_ALLOW]);
    else prog.push([JGE, 0, 2, lo], [JGT, 1, 0, hi], [RET_K, 0, 0, RET_ALLOW]);
  }
  // Newer than the table: ENOSYS, so libc falls back (glibc tries fchmodat2 before fchmodat).
  prog.push([JGT, 0, 1, Math.max(...Object.values(SYSCALL_NUMBERS))], [RET_K, 0, 0, retErrno(ENOSYS)]);
  prog.push([RET_K, 0, 0, retErrno(EPERM)]);
  return prog;
}

/** The program as `struct sock_filter[]` bytes (little-endian), what `tt-init --seccomp` loads. */
export function seccompBpf(): Buffer {
  const prog = seccompProgram();
  if (prog.length > 4096) throw new Error(`the seccomp program has ${prog.length} instructions (the kernel takes 4096)`);
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    if (jt > 255 || jf > 255) throw new Error(`seccomp instruction ${i} jumps too far`);
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}
