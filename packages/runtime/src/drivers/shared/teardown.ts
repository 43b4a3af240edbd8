/**
 * Removing a sandbox's host objects by id: the runtime's container (killed and deleted), the
 * cgroups, the state dir. Used by `SandboxHandle.destroy()` and by `Driver.destroy(id)` for
 * orphans; idempotent, and it needs nothing but the id (see driver.ts, "Names are derivable").
 */
import { readdir, rm } from 'node:fs/promises';
import { userNsRootPath } from '../../sandbox/native.js';
import { releaseUidRange } from '../../sandbox/uid-ranges.js';
import { releaseNetwork } from '../../network/sandbox.js';
import { removeCgroups } from '../../cgroups/v1.js';
import { forgetOwner } from '../../gc/owners.js';
import type { OciContext } from './context.js';

/** True when the runtime still keeps state for `containerId` under its root. */
export async function runtimeHasState(runtimeRoot: string, containerId: string): Promise<boolean> {
  const entries = await readdir(runtimeRoot).catch(() => [] as string[]);
  // runc: a dir named after the container; runsc: files prefixed with it.
  return entries.some((e) => e === containerId || e.startsWith(`${containerId}_`) || e.startsWith(`${containerId}.`));
}

/** Deletes everything of sandbox `id` on the host. Missing parts are fine. */
export async function removeSandbox(ctx: OciContext, id: string): Promise<void> {
  const cid = ctx.containerId(id);
  const paths = ctx.paths(id);
  // On the hot path the runtime already deleted its container when `run` returned: no spawn.
  if (await runtimeHasState(paths.runtimeRoot, cid)) {
    await ctx.call(ctx.tool.delete(paths.runtimeRoot, cid), { allowNonZero: true });
  }
  await Promise.all([
    removeCgroups(id),
    rm(paths.dir, { recursive: true, force: true, maxRetries: 3 }),
    // The run dir: files and empty mount points on the host (the mounts lived in the sandbox's mount namespace).
    rm(userNsRootPath(id), { recursive: true, force: true, maxRetries: 3 }),
  ]);
  // Its processes are gone: its address and uid range may be given to another sandbox.
  await releaseNetwork(id);
  await releaseUidRange(id);
  await forgetOwner(id);
}
