/**
 * The seccomp profile of every container and gVisor sandbox: default deny, an allowlist with
 * the semantics of Docker's default profile, written from the kernel's x86_64 syscall table
 * (`asm/unistd_64.h`, Linux 6.1) with a reason per group. Every syscall of that table is in
 * exactly one group, allowed or denied (a test checks the table against the groups, so a new
 * kernel's syscalls get a decision instead of a silent default).
 *
 * - Only the native ABI: the filter lists SCMP_ARCH_X86_64 alone, so a call through the i386
 *   entry (`int 0x80`, including i386 `socketcall`) or the x32 ABI never reaches a syscall — it
 *   fails whatever its number.
 * - Argument filters as Docker's: `clone` only without namespace flags; `clone3` fails with
 *   ENOSYS (its flags are in memory, out of seccomp's reach) so libc falls back to `clone`;
 *   `personality` only to query or set the Linux personalities; `socket` only for AF_UNIX,
 *   AF_INET, AF_INET6 and AF_NETLINK (never AF_VSOCK, which reaches the host's hypervisor
 *   sockets, nor raw packet families).
 * - Anything else fails with EPERM (a denied group, a gap in the table); a syscall newer than the
 *   table gets ENOSYS, as runc's stub answers, so that libc falls back to an older one.
 */

/** OCI `linux.seccomp` object. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo: number; op: string }[] }[];
}

/** Allowed syscalls, by what they are for. */
export const ALLOWED_GROUPS: Readonly<Record<string, { reason: string; names: readonly string[] }>> = {
  files: {
    reason: 'reading, writing and naming files and directories: what every program does',
    names: ['read', 'write', 'open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'stat', 'fstat', 'lstat', 'newfstatat', 'statx',
      'lseek', 'pread64', 'pwrite64', 'readv', 'writev', 'preadv', 'pwritev', 'preadv2', 'pwritev2', 'access', 'faccessat', 'faccessat2',
      'dup', 'dup2', 'dup3', 'pipe', 'pipe2', 'fcntl', 'flock', 'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range', 'truncate',
      'ftruncate', 'fallocate', 'getdents', 'getdents64', 'getcwd', 'chdir', 'fchdir', 'rename', 'renameat', 'renameat2', 'mkdir',
      'mkdirat', 'rmdir', 'link', 'linkat', 'unlink', 'unlinkat', 'symlink', 'symlinkat', 'readlink', 'readlinkat', 'chmod', 'fchmod',
      'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat', 'umask', 'utime', 'utimes', 'utimensat', 'futimesat', 'statfs', 'fstatfs',
      'ustat', 'mknod', 'mknodat', 'chroot', 'readahead', 'fadvise64', 'copy_file_range', 'sendfile', 'splice', 'tee', 'vmsplice',
      'ioctl', 'setxattr', 'lsetxattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'fgetxattr', 'listxattr', 'llistxattr', 'flistxattr',
      'removexattr', 'lremovexattr', 'fremovexattr', 'sysfs'],
  },
  waiting: {
    reason: 'waiting on file descriptors and events',
    names: ['poll', 'ppoll', 'select', 'pselect6', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2',
      'eventfd', 'eventfd2', 'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_settime', 'timerfd_gettime', 'inotify_init',
      'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'io_setup', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_submit',
      'io_cancel'],
  },
  memory: {
    reason: 'mapping and managing the process’s own memory',
    names: ['mmap', 'mprotect', 'munmap', 'brk', 'mremap', 'msync', 'mincore', 'madvise', 'mlock', 'mlock2', 'munlock', 'mlockall',
      'munlockall', 'remap_file_pages', 'membarrier', 'memfd_create', 'pkey_mprotect', 'pkey_alloc', 'pkey_free', 'mbind',
      'set_mempolicy', 'get_mempolicy', 'set_mempolicy_home_node'],
  },
  processes: {
    reason: 'making, running, waiting for and signalling the sandbox’s own processes and threads',
    names: ['fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'kill', 'tkill', 'tgkill', 'getpid', 'gettid',
      'getppid', 'getpgrp', 'getpgid', 'setpgid', 'getsid', 'setsid', 'pidfd_open', 'pidfd_send_signal', 'prctl', 'arch_prctl',
      'set_tid_address', 'set_robust_list', 'get_robust_list', 'rseq', 'futex', 'futex_waitv', 'set_thread_area', 'get_thread_area',
      'restart_syscall', 'seccomp', 'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self'],
  },
  signals: {
    reason: 'signal handling',
    names: ['rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigtimedwait', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo',
      'rt_sigsuspend', 'sigaltstack', 'pause'],
  },
  identity: {
    reason: 'user and group ids, capabilities and limits (changes stay within what the dropped capabilities allow)',
    names: ['getuid', 'geteuid', 'getgid', 'getegid', 'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'getresuid', 'setresgid',
      'getresgid', 'setfsuid', 'setfsgid', 'getgroups', 'setgroups', 'capget', 'capset', 'getrlimit', 'setrlimit', 'prlimit64',
      'getrusage', 'times'],
  },
  scheduling: {
    reason: 'priorities and CPU affinity of the sandbox’s own processes (bounded by its cgroup)',
    names: ['sched_yield', 'sched_setparam', 'sched_getparam', 'sched_setscheduler', 'sched_getscheduler', 'sched_get_priority_max',
      'sched_get_priority_min', 'sched_rr_get_interval', 'sched_setaffinity', 'sched_getaffinity', 'sched_setattr', 'sched_getattr',
      'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set', 'getcpu'],
  },
  time: {
    reason: 'reading clocks and sleeping (setting a clock is denied)',
    names: ['nanosleep', 'clock_nanosleep', 'clock_gettime', 'clock_getres', 'gettimeofday', 'time', 'alarm', 'getitimer', 'setitimer',
      'timer_create', 'timer_settime', 'timer_gettime', 'timer_getoverrun', 'timer_delete'],
  },
  ipc: {
    reason: 'System V and POSIX IPC inside the sandbox’s own IPC namespace',
    names: ['shmget', 'shmat', 'shmctl', 'shmdt', 'semget', 'semop', 'semctl', 'semtimedop', 'msgget', 'msgsnd', 'msgrcv', 'msgctl',
      'mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedreceive', 'mq_notify', 'mq_getsetattr'],
  },
  network: {
    reason: 'sockets (`socket` itself is allowed below only for some families)',
    names: ['socketpair', 'connect', 'accept', 'accept4', 'bind', 'listen', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'sendmmsg',
      'recvmmsg', 'shutdown', 'getsockname', 'getpeername', 'setsockopt', 'getsockopt'],
  },
  system: {
    reason: 'reading facts about the system',
    names: ['uname', 'sysinfo', 'getrandom'],
  },
};

/** Denied syscalls (EPERM), by why a sandboxed workload never gets them. */
export const DENIED_GROUPS: Readonly<Record<string, { reason: string; names: readonly string[] }>> = {
  mounts: {
    reason: 'filesystems and mounts belong to the host, which prepared the sandbox’s',
    names: ['mount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr',
      'quotactl', 'quotactl_fd', 'swapon', 'swapoff', 'open_by_handle_at', 'name_to_handle_at'],
  },
  namespaces: {
    reason: 'new or other namespaces are an escape route and a kernel attack surface (clone gets an argument filter instead)',
    names: ['unshare', 'setns'],
  },
  kernel: {
    reason: 'loading code into the kernel, or rebooting it',
    names: ['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'create_module', 'reboot'],
  },
  surface: {
    reason: 'large kernel attack surfaces a workload does not need: io_uring, eBPF, perf, userfaultfd, fanotify, 16-bit segments',
    names: ['io_uring_setup', 'io_uring_enter', 'io_uring_register', 'bpf', 'perf_event_open', 'userfaultfd', 'fanotify_init',
      'fanotify_mark', 'modify_ldt', 'memfd_secret'],
  },
  otherProcesses: {
    reason: 'reading or steering other processes’ memory',
    names: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd', 'process_madvise', 'process_mrelease',
      'migrate_pages', 'move_pages'],
  },
  keys: { reason: 'the kernel keyrings are not namespaced', names: ['keyctl', 'add_key', 'request_key'] },
  hostState: {
    reason: 'host-wide state: clocks, host names, the kernel log, accounting, I/O ports, terminals',
    names: ['settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'sethostname', 'setdomainname', 'syslog', 'acct', 'iopl',
      'ioperm', 'vhangup', 'lookup_dcookie'],
  },
  obsolete: {
    reason: 'removed or never implemented',
    names: ['uselib', '_sysctl', 'nfsservctl', 'get_kernel_syms', 'query_module', 'getpmsg', 'putpmsg', 'afs_syscall', 'tuxcall',
      'security', 'vserver', 'epoll_ctl_old', 'epoll_wait_old'],
  },
};

/** Syscalls allowed with an argument filter (below): in no group. */
export const FILTERED_SYSCALLS = ['clone', 'clone3', 'personality', 'socket'] as const;

/** Every denied syscall (compatibility with the denylist this replaced). */
export const DENIED_SYSCALLS: readonly string[] = Object.values(DENIED_GROUPS).flatMap((g) => g.names);

// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (CLONE_NEWTIME is clone3-only: in
// clone's flags that bit is part of the exit signal).
export const CLONE_NS_MASK = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
// PER_LINUX, PER_LINUX32, UNAME26 and UNAME26|PER_LINUX32, and 0xffffffff (query): as Docker's.
export const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
// AF_UNIX, AF_INET, AF_INET6, AF_NETLINK.
export const SOCKET_FAMILIES = [1, 2, 10, 16];

const EPERM = 1;
const ENOSYS = 38;

/** The profile; pure, the same for every sandbox. */
export function seccompProfile(): SeccompProfile {
  const eq = (index: number, value: number) => ({ index, value, valueTwo: 0, op: 'SCMP_CMP_EQ' });
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: Object.values(ALLOWED_GROUPS).flatMap((g) => g.names), action: 'SCMP_ACT_ALLOW' },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NS_MASK, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
      ...PERSONALITIES.map((p) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [eq(0, p)] })),
      ...SOCKET_FAMILIES.map((f) => ({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [eq(0, f)] })),
    ],
  };
}
