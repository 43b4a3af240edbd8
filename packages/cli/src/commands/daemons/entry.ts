/**
 * Runs a daemon's own entry module in this process, as `node <entry> ARGS` would: the server
 * replica (`apps/server/dist/main.js`) or the agent (`apps/agent/dist/main.js`), found through
 * their packages, which the CLI bundle leaves outside (as `tartarus up` reaches the server).
 *
 * In this process rather than a child: systemd then signals and waits for the daemon itself
 * (its own SIGTERM handler, its own exit status and messages), and a stop of the agent's unit,
 * which must spare the sandboxes (KillMode=process), can never leave an orphaned agent behind a
 * killed wrapper.
 */
import { fileURLToPath } from 'node:url';

/** The packages with a daemon entry (`dist/main.js` beside the package's `dist/index.js`). */
export type DaemonPackage = '@tartarus/server' | '@tartarus/agent';

/** The file URL of `pkg`'s entry module. */
export function entryOf(pkg: DaemonPackage): URL {
  return new URL('main.js', import.meta.resolve(pkg));
}

/** Runs `pkg`'s entry with `args`; resolves once it has started (it then runs until it exits). */
export async function runEntry(pkg: DaemonPackage, args: string[]): Promise<void> {
  const entry = entryOf(pkg);
  // An entry starts its daemon only when it is the script Node was started with (argv[1]).
  process.argv = [process.execPath, fileURLToPath(entry), ...args];
  await import(entry.href);
}
