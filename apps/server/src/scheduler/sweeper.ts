/**
 * Periodic housekeeping that keeps the reliability promises when nobody calls: expired leases are
 * requeued (visibility timeout), nodes past their heartbeat deadline are marked down (their runs
 * requeued, sandboxes lost), sandboxes past their timeout are killed, due terminations begin, agents whose node token was
 * revoked (on any replica) are disconnected, and run logs and audit entries past their retention
 * are deleted (`retention.ts`, once a minute). Every step is idempotent, so several replicas (or
 * a restarted server) may sweep at once.
 *
 * While the database cannot be reached nothing is swept (and one warning is logged); for a node
 * deadline after it answers again, leases and heartbeats are not judged either: the agents'
 * heartbeats of the outage could not be written, and marking their nodes down or requeueing
 * their runs would undo work that is running fine.
 */
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { StoreOutageLog } from '../store/outage-log.js';
import { RetentionSweep } from './retention.js';
import { Terminations } from '../services/termination.js';

/** Runs `sweepOnce` every `sweepIntervalMs`. */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly retention: RetentionSweep;
  private readonly terminations: Terminations;
  private readonly outage: StoreOutageLog;
  /** Leases and heartbeats are judged from this time on (epoch ms): not during an outage, nor right after. */
  private livenessFrom = 0;

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {
    this.retention = new RetentionSweep(ctx);
    this.terminations = new Terminations(ctx, hub);
    this.outage = new StoreOutageLog(ctx.log, 'sweeper');
  }

  /** Starts sweeping. */
  start(): void {
    this.timer = setInterval(() => void this.tick(), this.ctx.config.sweepIntervalMs);
    this.timer.unref();
  }

  /** Stops sweeping. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.sweepOnce({ liveness: !this.outage.down && Date.now() >= this.livenessFrom });
      if (this.outage.down) {
        this.outage.succeeded();
        this.livenessFrom = Date.now() + this.ctx.config.nodeDeadlineMs;
      }
    } catch (err) {
      if (!this.outage.failed(err)) this.ctx.log.error({ err }, 'sweep failed');
    } finally {
      this.busy = false;
    }
  }

  /** One sweep; `liveness: false` leaves expired leases and silent nodes alone (default true). */
  async sweepOnce({ liveness = true }: { liveness?: boolean } = {}): Promise<void> {
    if (liveness) await this.sweepLiveness();
    await this.sweepExpired();
    await this.terminations.sweep();
    // A node token revoked through another replica closes its connections here too.
    await this.hub.dropRevoked();
    await this.retention.runIfDue();
  }

  /** Requeues the runs of expired leases and marks nodes past their heartbeat deadline down. */
  private async sweepLiveness(): Promise<void> {
    const { store, bus, config } = this.ctx;
    for (const r of await store.queue.requeueExpiredLeases()) {
      for (const c of this.hub.list()) c.release(r.runId);
      bus.run(r.runId);
      bus.schedule();
    }
    for (const node of await store.nodes.listStale(config.nodeDeadlineMs)) {
      const { runs, lostSandboxes } = await store.queue.handleNodeDown(node.id);
      this.ctx.log.warn(
        { nodeId: node.id, runs: runs.length, lost: lostSandboxes.length },
        'node marked down',
      );
      for (const r of runs) {
        for (const c of this.hub.list()) c.release(r.runId);
        bus.run(r.runId);
      }
      for (const s of lostSandboxes) {
        for (const c of this.hub.list()) c.release(s);
        bus.sandbox(s);
      }
      bus.schedule();
    }
  }

  /** Kills the sandboxes past their timeout. */
  private async sweepExpired(): Promise<void> {
    const { store, bus } = this.ctx;
    for (const s of await store.sandboxes.listExpired()) {
      await this.hub.call(s.nodeId, 'killSandbox', { sandboxId: s.id }).catch(() => undefined);
      await store.sandboxes
        .transition(s.id, 'killed', {
          exitCode: null,
          reason: 'timeout',
          message: 'the sandbox reached its timeout',
        })
        .catch(() => undefined);
      this.hub.get(s.nodeId ?? '')?.release(s.id);
      bus.sandbox(s.id);
      bus.schedule();
    }
  }
}
