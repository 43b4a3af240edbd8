/**
 * runsc command lines and config for the `gvisor` driver. Pure: golden-tested in argv.test.ts.
 *
 * Global flags, on every call (runsc keeps them per container, but `--root` must match):
 * - `--root`: the sandbox's own runsc state directory in its run dir (runsc runs inside the
 *   sandbox's user namespace as its mapped root, `userns: 'enter'`, and can reach nothing else);
 * - `--network=none`: a network stack with loopback only; `--network=sandbox` (gVisor's own
 *   stack) for a sandbox with a network, over the interface of the namespace the config names;
 * - `--oci-seccomp`: also applies the config's seccomp profile inside the sandbox;
 * - `--ignore-cgroups`: Tartarus makes the cgroups and starts runsc inside them (`ownCgroups`).
 *   runsc's own cgroup teardown retries a busy cgroup every 100 ms, which cost most runs a
 *   100 ms sleep; its boot (sentry, gofer) is also not throttled by the workload's CPU limit,
 *   which is written once the workload runs.
 */
import { dirname } from 'node:path';
import type { OciConfig, OciMount } from '../shared/oci-spec.js';
import type { OciTool } from '../shared/tool.js';

/** The runsc binary; found on PATH. */
export const RUNSC = 'runsc';

/**
 * Host tasks runsc itself needs inside the sandbox's pids cgroup (the sentry's and gofer's
 * threads); the workload's own share comes on top. Measured: runsc does not start below ~30.
 */
export const GVISOR_PIDS_OVERHEAD = 256;

/**
 * Host tasks per sandbox process under runsc's ptrace platform: measured ≈ 8.6 for sleeping
 * processes (250 held 2144 host tasks), and a fork bomb held to 64 processes churned through up
 * to 3739 host tasks (each fork makes and drops a host stub). With the host bound at the bare
 * limit the sentry itself failed to make a thread at ~40 processes and the sandbox died with no
 * message (issue 16). So the host bound is generous (`gvisorHostPids`) and the limit the workload
 * sees is RLIMIT_NPROC inside the sandbox, which the sentry enforces (EAGAIN). scripts/setup.d
 * raises the host's kernel.pid_max so that such bounds never approach it.
 */
export const GVISOR_HOST_PIDS_PER_TASK = 16;
/** The least host bound of a gVisor sandbox (a fork bomb's churn, whatever its limit). */
export const GVISOR_HOST_PIDS_MIN = 8192;

function global(root: string, network = false): string[] {
  // With a network (network/sandbox.ts): runsc's own network stack over the namespace's eth0.
  return [RUNSC, '--root', root, network ? '--network=sandbox' : '--network=none', '--oci-seccomp', '--ignore-cgroups'];
}

function withoutCgroups(linux: OciConfig['linux']): OciConfig['linux'] {
  const { cgroupsPath: _path, resources: _resources, ...rest } = linux;
  return rest;
}

function withNproc(process: OciConfig['process'], limit: number): OciConfig['process'] {
  const rlimits = process.rlimits.filter((r) => r.type !== 'RLIMIT_NPROC');
  return { ...process, rlimits: [...rlimits, { type: 'RLIMIT_NPROC', hard: limit, soft: limit }] };
}

/** The layer's tmp/ bound on /tmp. */
function tmpMount(config: OciConfig): OciMount {
  return { destination: '/tmp', type: 'bind', source: `${dirname(config.root.path)}/layer/tmp`, options: ['rbind', 'rw', 'nosuid', 'nodev'] };
}

/**
 * A mount hint that gives /tmp the root's caching (`share: container` is runsc's exclusive file
 * access; the hint is found by its source): only this sandbox writes its layer, and the host only
 * reads it, while the sandbox is frozen (a files snapshot) or gone (a checkpoint), as it does the
 * root, which runsc caches so already. Without it runsc treats the bind as shared and revalidates
 * every lookup against the host, a round trip per path, and a restored sandbox (whose layer was
 * unpacked anew, every inode number changed) revalidated each of its saved /tmp dentries.
 */
function tmpHint(config: OciConfig): Record<string, string> {
  const key = 'dev.gvisor.spec.mount.tt-tmp';
  return { [`${key}.source`]: tmpMount(config).source, [`${key}.type`]: 'bind', [`${key}.share`]: 'container' };
}

/** runsc as an `OciTool`. */
export const runscTool: OciTool = {
  runtime: 'gvisor',
  binary: RUNSC,
  ownCgroups: true,
  userns: 'enter',
  // runsc (2022) refuses a network namespace it takes for the host's: it tests for
  // /proc/sys/net/core/rmem_default, which only the initial namespace had before kernel 6.x.
  // (The whole of /proc/sys/net: below it each namespace has its own entries, a mount on the
  // host's would not hide the sandbox's.)
  masksWithNetwork: ['/proc/sys/net'],
  // /tmp is the layer's tmp/ (adjustConfig): files snapshots take it and seeds restore it there.
  tmpApart: true,
  pidsOverhead: GVISOR_PIDS_OVERHEAD,
  hostPids: (limit) => Math.max(limit * GVISOR_HOST_PIDS_PER_TASK, GVISOR_HOST_PIDS_MIN) + GVISOR_PIDS_OVERHEAD,
  version: () => [RUNSC, '--version'],
  run: (root, o) => [...global(root, o.network), 'run', '--bundle', o.bundle, '--pid-file', o.pidFile, o.containerId],
  checkpoint: (root, o) => [...global(root), 'checkpoint', '--image-path', o.imagePath, o.containerId],
  restore: (root, o) => [...global(root, o.network), 'restore', '--image-path', o.imagePath, '--bundle', o.bundle, '--pid-file', o.pidFile, o.containerId],
  // The sandbox-internal pid: the process lives in gVisor's kernel, not the host's (exec runs `tt-init attach` after a restart).
  exec: (root, o) => [...global(root), 'exec', '--process', o.processFile, '--internal-pid-file', o.pidFile, o.containerId],
  kill: (root, id, signal, all) => [...global(root), 'kill', ...(all ? ['--all'] : []), id, signal],
  delete: (root, id) => [...global(root), 'delete', '--force', id],
  pause: (root, id) => [...global(root), 'pause', id],
  resume: (root, id) => [...global(root), 'resume', id],
  list: (root) => [...global(root), 'list', '--format=json'],
  adjustConfig: (config: OciConfig) => ({
    ...config,
    // The sandbox's pids limit, enforced by the sentry on fork (EAGAIN at the limit, as under runc's
    // pids cgroup). It counts per user: the init (root) is outside a non-root workload's count.
    process: withNproc(config.process, (config.linux.resources?.pids.limit ?? 257) - 1),
    // Cgroups are Tartarus's (ownCgroups): no cgroupsPath, no resources for runsc to apply.
    linux: { ...withoutCgroups(config.linux) },
    // runsc would put an unbounded in-sandbox tmpfs on /tmp; binding the layer's tmp/ (made by
    // tt-layer on the same size-capped tmpfs, never a template path that could be a symlink)
    // keeps /tmp inside the sandbox's disk limit, as under runc.
    mounts: [...config.mounts, tmpMount(config)],
    annotations: { ...config.annotations, ...tmpHint(config) },
  }),
};
