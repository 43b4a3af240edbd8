/**
 * Removing a sandbox's host objects by id: the runtime's container (killed and deleted), the
 * cgroups, the state dir. Used by `SandboxHandle.destroy()` and by `Driver.destroy(id)` for
 * orphans; idempotent, and it needs nothing but the id (see driver.ts, "Names are derivable").
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { userNsRootPath } from '../../sandbox/native.js';
import { releaseUidRange } from '../../sandbox/uid-ranges.js';
import { removeCgroups } from '../../cgroups/v1.js';
import { forgetOwner } from '../../gc/owners.js';
import type { OciContext } from './context.js';

/** True when the runtime still keeps state for `containerId` under its root. */
export async function runtimeHasState(ctx: OciContext, containerId: string): Promise<boolean> {
  const entries = await readdir(ctx.runtimeRoot).catch(() => [] as string[]);
  // runc: a dir named after the container; runsc: files prefixed with it.
  return entries.some((e) => e === containerId || e.startsWith(`${containerId}_`) || e.startsWith(`${containerId}.`));
}

/** Deletes everything of sandbox `id` on the host. Missing parts are fine. */
export async function removeSandbox(ctx: OciContext, id: string): Promise<void> {
  const cid = ctx.containerId(id);
  // On the hot path the runtime already deleted its container when `run` returned: no spawn.
  if (await runtimeHasState(ctx, cid)) {
    await ctx.call(ctx.tool.delete(ctx.runtimeRoot, cid), { allowNonZero: true });
  }
  await Promise.all([
    removeCgroups(id),
    rm(ctx.paths(id).dir, { recursive: true, force: true, maxRetries: 3 }),
    // Only ever an empty mount point on the host (the overlay lived in the sandbox's mount namespace).
    rmdir(userNsRootPath(id)).catch(() => undefined),
  ]);
  // Its processes are gone: its uid range may be given to another sandbox.
  await releaseUidRange(id);
  await forgetOwner(id);
}
