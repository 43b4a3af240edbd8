/**
 * The seccomp profile of every sandbox: default allow, and a denylist of the syscalls a
 * sandboxed workload never needs and that widen the host kernel's attack surface (mounts,
 * namespaces, kernel modules, kexec, BPF, perf, keyrings, ptrace, clock and swap control,
 * reboot). They fail with EPERM, except clone3 which fails with ENOSYS so libc falls back to
 * clone, whose namespace flags can be inspected (clone3 passes them in memory, out of seccomp's
 * reach) — the same trick Docker's profile uses.
 *
 * Why a denylist rather than Docker's allowlist: it is short enough to review, and it does not
 * break a workload on a newer syscall the list does not know yet. The other layers (dropped
 * capabilities, no_new_privileges, namespaces, cgroups) still apply to every allowed call.
 */

/** OCI `linux.seccomp` object. */
export interface SeccompProfile {
  defaultAction: string;
  architectures: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo: number; op: string }[] }[];
}

/** Syscalls denied outright (EPERM). */
export const DENIED_SYSCALLS: readonly string[] = [
  // filesystems and namespaces
  'mount', 'umount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'mount_setattr', 'unshare', 'setns', 'open_by_handle_at', 'name_to_handle_at', 'quotactl', 'quotactl_fd',
  // kernel code and state
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'create_module', 'bpf',
  'perf_event_open', 'lookup_dcookie', 'syslog', 'acct', 'reboot', 'swapon', 'swapoff', 'iopl', 'ioperm',
  'sethostname', 'setdomainname', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'userfaultfd',
  'nfsservctl', 'uselib', 'vm86', 'vm86old', 'get_kernel_syms', 'query_module',
  // keyrings and other processes
  'keyctl', 'add_key', 'request_key', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp',
];

// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
const CLONE_NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080];

const EPERM = 1;
const ENOSYS = 38;

/** The profile; pure, the same for every sandbox. */
export function seccompProfile(): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
      // One rule per flag: seccomp compares (arg & mask) == value, so "any of" needs one each.
      ...CLONE_NS_FLAGS.map((flag) => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      })),
    ],
  };
}
