/**
 * runsc command lines and config for the `gvisor` driver. Pure: golden-tested in argv.test.ts.
 *
 * Global flags, on every call (runsc keeps them per container, but `--root` must match):
 * - `--root`: the Runtime's own runsc state directory (only Tartarus's containers are seen);
 * - `--network=none`: a network stack with loopback only;
 * - `--oci-seccomp`: also applies the config's seccomp profile inside the sandbox;
 * - `--ignore-cgroups`: Tartarus makes the cgroups and starts runsc inside them (`ownCgroups`).
 *   runsc's own cgroup teardown retries a busy cgroup every 100 ms, which cost most runs a
 *   100 ms sleep; its boot (sentry, gofer) is also not throttled by the workload's CPU limit,
 *   which is written once the workload runs.
 */
import { dirname } from 'node:path';
import type { OciConfig } from '../shared/oci-spec.js';
import type { OciTool } from '../shared/tool.js';

/** The runsc binary; found on PATH. */
export const RUNSC = 'runsc';

/**
 * Host tasks runsc itself needs inside the sandbox's pids cgroup (the sentry's and gofer's
 * threads); the workload's own limit comes on top. Measured: runsc does not start below ~30.
 */
export const GVISOR_PIDS_OVERHEAD = 64;

function global(root: string): string[] {
  return [RUNSC, '--root', root, '--network=none', '--oci-seccomp', '--ignore-cgroups'];
}

function withoutCgroups(linux: OciConfig['linux']): OciConfig['linux'] {
  const { cgroupsPath: _path, resources: _resources, ...rest } = linux;
  return rest;
}

/** runsc as an `OciTool`. */
export const runscTool: OciTool = {
  runtime: 'gvisor',
  binary: RUNSC,
  ownCgroups: true,
  pidsOverhead: GVISOR_PIDS_OVERHEAD,
  version: () => [RUNSC, '--version'],
  run: (root, o) => [...global(root), 'run', '--bundle', o.bundle, '--pid-file', o.pidFile, o.containerId],
  // The sandbox-internal pid: the process lives in gVisor's kernel, not the host's (exec runs `tt-init attach` after a restart).
  exec: (root, o) => [...global(root), 'exec', '--process', o.processFile, '--internal-pid-file', o.pidFile, o.containerId],
  kill: (root, id, signal, all) => [...global(root), 'kill', ...(all ? ['--all'] : []), id, signal],
  delete: (root, id) => [...global(root), 'delete', '--force', id],
  pause: (root, id) => [...global(root), 'pause', id],
  resume: (root, id) => [...global(root), 'resume', id],
  list: (root) => [...global(root), 'list', '--format=json'],
  adjustConfig: (config: OciConfig) => ({
    ...config,
    // Cgroups are Tartarus's (ownCgroups): no cgroupsPath, no resources for runsc to apply.
    linux: { ...withoutCgroups(config.linux) },
    // runsc would put an unbounded in-sandbox tmpfs on /tmp; binding the layer's tmp/ (made by
    // tt-layer on the same size-capped tmpfs, never a template path that could be a symlink)
    // keeps /tmp inside the sandbox's disk limit, as under runc.
    mounts: [
      ...config.mounts,
      { destination: '/tmp', type: 'bind', source: `${dirname(config.root.path)}/layer/tmp`, options: ['rbind', 'rw', 'nosuid', 'nodev'] },
    ],
  }),
};
