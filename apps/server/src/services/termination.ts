/**
 * Ending a sandbox, now or later (the old design's Thanatos): a kill is SIGTERM to the workload and
 * SIGKILL to what is left `graceMs` later, on its node, then the `killed` state with why. A
 * termination with a delay is kept in the store (`terminate_at`), shown on the sandbox until it
 * begins, cancellable until then, and carried out by whichever server replica's sweeper finds it
 * due first: `claimTermination` lets one replica take it, with a lease of its grace and a margin,
 * past which it is due again (its carrier crashed, or its node did not answer): another replica,
 * or a restarted one, takes it over. The sandbox's own timeout still holds meanwhile.
 *
 * With `snapshot`, the sandbox is kept as a snapshot just before the end (the sandbox's
 * `finalSnapshotId`, from which a new sandbox resumes): its memory and files where the runtime can
 * save memory (microvm and gvisor, without a network, no command running besides the main), so
 * that the resumed sandbox goes on from that moment; else its files. Asked for now, a snapshot that cannot be
 * taken refuses the termination (nothing ends); carried out later, one refused for good (the
 * tenant's room for snapshots is full) ends the sandbox anyway, saying so in its exit, while one
 * whose node does not answer is tried again when the lease ends.
 */
import { ConflictError, isLiveSandbox, TartarusError, type Sandbox as SandboxDto, type Snapshot } from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { sandboxDto } from '../http/convert.js';
import type { Sandbox } from '../store/index.js';
import { memorySnapshotRefusal, SNAPSHOT_TIMEOUT_MS, takeSnapshot } from './snapshots.js';

/** How a sandbox is ended. */
export interface Ending {
  /** Between SIGTERM and SIGKILL, ms; undefined: the node's default (1 s). */
  graceMs?: number | undefined;
  /** The exit's message. */
  message: string;
}

/** Margin of an agent call that waits out a grace, and of a claimed termination's lease, ms. */
const CALL_MARGIN_MS = 30_000;

/**
 * Ends live sandbox `s` on its node and records it `killed` with `ending.message`. A node no one
 * holds has its sandboxes ended when it comes back (the store says killed).
 */
export async function endSandbox(ctx: ServerContext, hub: AgentHub, s: Sandbox, ending: Ending): Promise<Sandbox> {
  if (s.nodeId !== null) {
    const input = { sandboxId: s.id, message: ending.message, ...(ending.graceMs === undefined ? {} : { graceMs: ending.graceMs }) };
    await hub
      .call(s.nodeId, 'killSandbox', input, ending.graceMs === undefined ? {} : { timeoutMs: ending.graceMs + CALL_MARGIN_MS })
      .catch((err: unknown) => {
        if (!(err instanceof TartarusError && err.code === 'sandbox_not_running')) throw err;
      });
    hub.release(s.nodeId, s.id);
  }
  // Its node's report of the end may have been recorded first: the sandbox is then as it says.
  const out = await ctx.store.sandboxes
    .transition(s.id, 'killed', { exitCode: null, reason: 'killed', message: ending.message })
    .catch(async (err: unknown) => {
      if (err instanceof ConflictError) return ctx.store.sandboxes.find(s.id);
      throw err;
    });
  ctx.bus.sandbox(s.id);
  ctx.bus.schedule();
  return out;
}

/** The exit message of a termination. */
function terminated(reason: string | null | undefined): string {
  return reason ? `terminated: ${reason}` : 'terminated by request';
}

/** Terminations: asked for through the API, carried out now or by the sweeper. */
export class Terminations {
  /** Sandbox ids whose termination this replica is carrying out. */
  private readonly underway = new Set<string>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  /**
   * Ends sandbox `id` `delayMs` from now with `graceMs` and `reason`: at once when `delayMs` is 0
   * (the ended sandbox), else recorded (the sandbox with its pending `termination`, replacing an
   * earlier one). A sandbox that has ended is returned as it is.
   */
  async terminate(tenantId: string, id: string, req: { delayMs: number; graceMs: number; reason?: string | undefined; snapshot?: boolean | undefined }): Promise<{ sandbox: SandboxDto; pending: boolean }> {
    const { store } = this.ctx;
    const s = await store.sandboxes.get(tenantId, id);
    if (!isLiveSandbox(s.state) && s.state !== 'lost') return { sandbox: sandboxDto(s), pending: false };
    const reason = req.reason ?? null;
    const snapshot = req.snapshot === true;
    if (req.delayMs === 0) {
      const ended = await this.carryOut(s, { graceMs: req.graceMs, reason, snapshot }, true);
      return { sandbox: sandboxDto(ended), pending: false };
    }
    const now = Date.now();
    const t = { at: now + req.delayMs, graceMs: req.graceMs, reason, requestedAt: now, ...(snapshot ? { snapshot } : {}) };
    return { sandbox: sandboxDto(await store.sandboxes.setTermination(tenantId, id, t)), pending: true };
  }

  /** Cancels sandbox `id`'s pending termination; ConflictError when none is pending. */
  async cancel(tenantId: string, id: string): Promise<SandboxDto> {
    const { outcome, sandbox: s } = await this.ctx.store.sandboxes.cancelTermination(tenantId, id);
    if (outcome === 'none') {
      throw new ConflictError(`sandbox ${id} has no termination pending (it is ${s.state}): there is nothing to cancel`);
    }
    if (outcome === 'begun') throw new ConflictError(`sandbox ${id}'s termination has begun: it can no longer be cancelled`);
    return sandboxDto(s);
  }

  /** Ends `s`, after keeping its files as a snapshot when asked (`strict`: a snapshot that fails ends nothing). */
  private async carryOut(s: Sandbox, t: { graceMs: number; reason: string | null; snapshot: boolean }, strict: boolean): Promise<Sandbox> {
    let message = terminated(t.reason);
    if (t.snapshot && s.state !== 'lost') {
      try {
        const snap = await this.finalSnapshot(s);
        await this.ctx.store.sandboxes.setFinalSnapshot(s.id, snap.id);
      } catch (err) {
        if (strict || (err instanceof TartarusError && err.retryable)) throw err;
        message += ` (its final snapshot could not be kept: ${(err as Error).message})`;
      }
    }
    return endSandbox(this.ctx, this.hub, s, { graceMs: t.graceMs, message });
  }

  /** The final snapshot: of memory and files where it can be (see the header), else of files. */
  private async finalSnapshot(s: Sandbox): Promise<Snapshot> {
    if (memorySnapshotRefusal(s) !== undefined) return takeSnapshot(this.ctx, this.hub, s.tenantId, s.id);
    return takeSnapshot(this.ctx, this.hub, s.tenantId, s.id, true).catch((err: unknown) => {
      // A command running (or a main process gone): the files are still kept.
      if (err instanceof TartarusError && err.code === 'conflict') return takeSnapshot(this.ctx, this.hub, s.tenantId, s.id);
      throw err;
    });
  }

  /** Starts carrying out every due termination this replica can claim (the sweeper's step; does not wait for graces). */
  async sweep(): Promise<void> {
    const { store, log } = this.ctx;
    for (const s of await store.sandboxes.listTerminationsDue()) {
      const t = s.termination;
      const dueAt = s.terminateDueAt;
      if (t === null || dueAt === null || this.underway.has(s.id)) continue;
      // A final snapshot may take a while: the lease covers it, so no other replica takes it over meanwhile.
      const lease = t.graceMs + CALL_MARGIN_MS + (t.snapshot === true ? SNAPSHOT_TIMEOUT_MS : 0);
      if (!(await store.sandboxes.claimTermination(s.id, dueAt, Date.now() + lease))) continue;
      this.underway.add(s.id);
      void this.carryOut(s, { graceMs: t.graceMs, reason: t.reason, snapshot: t.snapshot === true }, false)
        // Its node did not answer: due again when the lease ends, for whichever replica finds it.
        .catch((err: Error) => log.warn({ sandboxId: s.id, err: err.message }, 'termination failed; tried again when its lease ends'))
        .finally(() => this.underway.delete(s.id));
    }
  }
}
