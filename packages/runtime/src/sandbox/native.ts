/**
 * The native helpers: `tt-layer` (`packages/runtime/native/`) gives a sandbox its writable layer
 * in a private mount namespace; `tt-splice` relays a port proxy's connections in the kernel; `tt-init` (`packages/runtime/guest/`, the same agent as the
 * microVM guest's) is PID 1 of every container and gVisor sandbox. `scripts/setup.d/
 * 10-runtime-native.sh` compiles them; if that did not run, the first Runtime on a machine
 * compiles them the same way (static, musl-gcc or gcc).
 */
import { access, chmod, constants, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { seccompBpf } from '../drivers/shared/seccomp-bpf.js';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ownersDir } from '../gc/owners.js';
import { RuntimeUnavailableError } from '@tartarus/core';
import { runCommand } from '../process/run.js';

/** `packages/runtime/native` (sources and the setup script's `build/`). */
export const NATIVE_DIR = fileURLToPath(new URL('../../native/', import.meta.url));
/** Directory bind-mounted read-only into every sandbox; holds `tt-init`. */
export const SANDBOX_HELPER_DIR = join(NATIVE_DIR, 'build', 'sandbox');
/** Where the helper directory appears inside a sandbox (on the sandbox's own /dev tmpfs, so it never touches the writable layer). */
export const SANDBOX_HELPER_MOUNT = '/dev/.tartarus';
/** The in-sandbox init and agent's path inside a sandbox. */
export const SANDBOX_INIT = `${SANDBOX_HELPER_MOUNT}/tt-init`;
/**
 * Machine-wide run dir of sandboxes' host objects a user-namespaced sandbox's root must reach
 * (its mapped root cannot traverse a root-only state dir): `helpers/` (tt-init and the seccomp
 * program, bind-mounted into every container) and `roots/<id>` (runc: where its overlay is
 * mounted, in its own mount namespace only; runsc: its bundle, pid file and runsc root, owned by
 * its mapped root). Beside the owner records (gc/owners.ts).
 */
export function sandboxRunDir(): string {
  return dirname(ownersDir());
}

/** A sandbox's run dir: runc's root mount point (an empty dir on the host), or runsc's bundle dir (drivers/shared/context.ts). */
export function userNsRootPath(id: string): string {
  return join(sandboxRunDir(), 'roots', id);
}

/** The helper dir bind-mounted into containers: a traversable copy of SANDBOX_HELPER_DIR under the run dir. */
export function sandboxHelperRunDir(): string {
  return join(sandboxRunDir(), 'helpers');
}

/** The workload seccomp program tt-init loads (`--seccomp`), beside it in the helper dir. */
export const SANDBOX_SECCOMP = `${SANDBOX_HELPER_MOUNT}/seccomp.bpf`;
/** Host path of `tt-layer`. */
export const LAYER_HELPER = join(NATIVE_DIR, 'build', 'tt-layer');
/** Host path of `tt-splice`, the port proxies' in-kernel relay (network/relay.ts). */
export const SPLICE_HELPER = join(NATIVE_DIR, 'build', 'tt-splice');

let built: Promise<void> | undefined;

/** Makes sure both helpers exist, compiling them once if needed. Throws `RuntimeUnavailableError` with what to install. */
export function ensureNativeHelpers(): Promise<void> {
  built ??= build().then(writeSeccompProgram).then(copyHelpersToRunDir).catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

async function build(): Promise<void> {
  const present = await Promise.all(
    [LAYER_HELPER, SPLICE_HELPER, join(SANDBOX_HELPER_DIR, 'tt-init')].map((p) => access(p, constants.X_OK).then(() => true, () => false)),
  );
  if (present.every(Boolean)) return;
  const script = fileURLToPath(new URL('../../../../scripts/setup.d/10-runtime-native.sh', import.meta.url));
  try {
    await runCommand(['bash', script], { timeoutMs: 120_000 });
  } catch (cause) {
    throw new RuntimeUnavailableError(
      `the runtime's native helpers are not built and building them failed: install gcc and musl-tools, then run ${script}`,
      { cause },
    );
  }
}

/** Writes the compiled seccomp program beside tt-init when it is not there already (atomically: sandboxes may be starting). */
async function writeSeccompProgram(): Promise<void> {
  const path = join(SANDBOX_HELPER_DIR, 'seccomp.bpf');
  const want = seccompBpf();
  const have = await readFile(path).catch(() => undefined);
  if (have?.equals(want)) return;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, want, { mode: 0o644 });
  await rename(tmp, path);
}

/**
 * Copies tt-init and the seccomp program to the run dir (0755 all the way down), replacing a
 * stale copy by rename (a running sandbox keeps the file it has), and makes `roots/`.
 */
async function copyHelpersToRunDir(): Promise<void> {
  const run = sandboxRunDir();
  const dest = sandboxHelperRunDir();
  await mkdir(dest, { recursive: true, mode: 0o755 });
  await mkdir(join(run, 'roots'), { recursive: true, mode: 0o755 });
  // The owner records' mkdir may have made the run dir 0700: it must be traversable.
  await Promise.all([run, dest, join(run, 'roots')].map((d) => chmod(d, 0o755)));
  for (const name of ['tt-init', 'seccomp.bpf']) {
    const want = await readFile(join(SANDBOX_HELPER_DIR, name));
    const have = await readFile(join(dest, name)).catch(() => undefined);
    if (have?.equals(want)) continue;
    const tmp = join(dest, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, want, { mode: name === 'tt-init' ? 0o755 : 0o644 });
    await rename(tmp, join(dest, name));
  }
}
