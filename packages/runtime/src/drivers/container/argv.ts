/**
 * runc command lines and config for the `container` driver. Pure: golden-tested in
 * argv.test.ts. Every call names `--root`, the Runtime's own runc state directory, so that
 * Tartarus only ever sees (and lists, and deletes) the containers it created.
 */
import type { OciConfig } from '../shared/oci-spec.js';
import type { OciTool } from '../shared/tool.js';

/** The runc binary; found on PATH. */
export const RUNC = 'runc';

/** runc as an `OciTool`. */
export const runcTool: OciTool = {
  runtime: 'container',
  binary: RUNC,
  ownCgroups: false,
  userns: 'join',
  masksWithNetwork: [],
  pidsOverhead: 0,
  hostPids: (limit) => limit,
  version: () => [RUNC, '--version'],
  run: (root, o) => [RUNC, '--root', root, 'run', '--bundle', o.bundle, '--pid-file', o.pidFile, o.containerId],
  exec: (root, o) => [RUNC, '--root', root, 'exec', '--process', o.processFile, '--pid-file', o.pidFile, o.containerId],
  kill: (root, id, signal, all) => [RUNC, '--root', root, 'kill', ...(all ? ['--all'] : []), id, signal],
  delete: (root, id) => [RUNC, '--root', root, 'delete', '--force', id],
  pause: (root, id) => [RUNC, '--root', root, 'pause', id],
  resume: (root, id) => [RUNC, '--root', root, 'resume', id],
  list: (root) => [RUNC, '--root', root, 'list', '--format', 'json'],
  adjustConfig: (config: OciConfig) => ({
    ...config,
    // runc also gives the container its own cgroup namespace (it hides the host's cgroup paths).
    linux: { ...config.linux, namespaces: [...config.linux.namespaces, { type: 'cgroup' }] },
  }),
};
