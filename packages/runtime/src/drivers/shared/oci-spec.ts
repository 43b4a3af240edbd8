/**
 * The OCI runtime config (config.json) of a sandbox, built purely from resolved values so that
 * it can be tested with golden cases. runc and runsc both read it; `argv.ts` of each driver
 * adjusts what differs.
 *
 * What it enforces: own PID, mount, IPC, UTS and network namespaces (the network namespace
 * holds only loopback), Docker's default capabilities minus NET_RAW (and none at all in the
 * effective set of a non-root user), no_new_privileges, (seccomp: applied by tt-init, see seccomp-bpf.ts), runc's masked and
 * read-only /proc paths, and cgroup limits for memory (no swap), CPU (quota/period) and pids.
 */
import type { ResourceLimits } from '../../driver.js';
import type { ResolvedUser } from '../../sandbox/user.js';
import type { SeccompProfile } from './seccomp.js';
import { UID_RANGE_SIZE } from '../../sandbox/uid-ranges.js';

/** Docker's default capability set minus CAP_NET_RAW (no raw sockets, no spoofed packets). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** runc's default masked paths. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
/** runc's default read-only paths. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const MIB = 1024 * 1024;

/** CFS period used for fractional CPU limits, µs. */
export const CPU_PERIOD_US = 100_000;

/** One OCI mount. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** The OCI `process` object (also the body of `runc exec --process`). */
export interface OciProcess {
  terminal: false;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
  rlimits: { type: string; hard: number; soft: number }[];
  noNewPrivileges: true;
}

/** The subset of the OCI config Tartarus writes. */
export interface OciConfig {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  annotations: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    uidMappings?: { containerID: number; hostID: number; size: number }[];
    gidMappings?: { containerID: number; hostID: number; size: number }[];
    cgroupsPath?: string;
    resources?: {
      devices: { allow: boolean; access: string }[];
      memory: { limit: number; swap?: number };
      cpu?: { quota: number; period: number };
      pids: { limit: number };
    };
    seccomp?: SeccompProfile;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** Inputs of `buildOciConfig`. */
export interface OciConfigInput {
  /** Host path of the root (the overlay's merged dir). */
  rootfsPath: string;
  hostname: string;
  process: { args: string[]; env: Record<string, string>; cwd: string; user: ResolvedUser };
  limits: ResourceLimits;
  cgroupsPath: string;
  /** Host dir bind-mounted read-only at `helperMount`. */
  helperDir: string;
  helperMount: string;
  annotations: Record<string, string>;
  /** Whether the host has memory+swap accounting (`memory.memsw.*`). Default true. */
  swapAccounting?: boolean;
  /** A user namespace mapping container ids 0..65535 to host ids from this base. Default none. */
  uidBase?: number;
  /** Where that user namespace is kept for the runtime to join (tt-layer makes it). */
  userNamespacePath?: string;
  /** A network made ahead (network/sandbox.ts): the namespace to join and the resolv.conf to mount. Default: loopback only. */
  network?: { namespacePath: string; resolvConf: string };
}

/** The process object for a main process or an exec. */
export function buildOciProcess(p: OciConfigInput['process']): OciProcess {
  const caps = [...DEFAULT_CAPABILITIES];
  // A non-root user keeps the bounding set (what setuid binaries could regain is capped by it
  // and by no_new_privileges) but holds no capability itself, as under Docker.
  const held = p.user.uid === 0 ? caps : [];
  return {
    terminal: false,
    user: { uid: p.user.uid, gid: p.user.gid, ...(p.user.additionalGids.length ? { additionalGids: p.user.additionalGids } : {}) },
    args: [...p.args],
    env: Object.entries(p.env).map(([k, v]) => `${k}=${v}`),
    cwd: p.cwd,
    capabilities: { bounding: caps, effective: held, permitted: held, inheritable: [], ambient: [] },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  };
}

/** The full config.json of a sandbox. */
export function buildOciConfig(input: OciConfigInput): OciConfig {
  return {
    ociVersion: '1.0.2-dev',
    process: buildOciProcess(input.process),
    root: { path: input.rootfsPath, readonly: false },
    hostname: input.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: input.helperMount, type: 'bind', source: input.helperDir, options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      ...(input.network
        ? [{ destination: '/etc/resolv.conf', type: 'bind', source: input.network.resolvConf, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] }]
        : []),
    ],
    annotations: { ...input.annotations },
    linux: {
      namespaces: [
        // Joined, not made: tt-layer makes it owned by the range's own uid (see tt-layer.c).
        ...(input.uidBase === undefined ? [] : [{ type: 'user', path: input.userNamespacePath ?? '' }]),
        ...['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => (type === 'network' && input.network ? { type, path: input.network.namespacePath } : { type })),
      ],
      ...(input.uidBase === undefined
        ? {}
        : {
            uidMappings: [{ containerID: 0, hostID: input.uidBase, size: UID_RANGE_SIZE }],
            gidMappings: [{ containerID: 0, hostID: input.uidBase, size: UID_RANGE_SIZE }],
          }),
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        // swap is memory+swap in OCI: equal to the limit means no swap at all. Without swap
        // accounting on the host there is no memsw to set (and runc would refuse it).
        memory: {
          limit: input.limits.memoryMiB * MIB,
          ...(input.swapAccounting === false ? {} : { swap: input.limits.memoryMiB * MIB }),
        },
        cpu: { quota: Math.max(1000, Math.round(input.limits.cpu * CPU_PERIOD_US)), period: CPU_PERIOD_US },
        pids: { limit: input.limits.pids },
      },
      // No `seccomp` here: tt-init loads the compiled program (seccomp-bpf.ts) into each workload
      // process itself, instead of runc compiling the profile on every start.
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}
