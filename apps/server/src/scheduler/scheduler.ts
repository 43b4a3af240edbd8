/**
 * The scheduler: turns queued runs into leases on connected nodes. Woken on every submit, finish,
 * connect and by a poll; one pass at a time. Work that fits nowhere stays queued in the store —
 * nothing is dropped, it is leased when capacity frees up.
 */
import type { RunSpec } from '../store/index.js';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { rankNodes } from './placement.js';
import { runStartMessage } from './start-run.js';

/** The placement loop of one server. */
export class Scheduler {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly wake = () => void this.pass();

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  /** Starts listening for wake-ups and polling. */
  start(): void {
    this.ctx.bus.on('schedule', this.wake);
    this.timer = setInterval(this.wake, this.ctx.config.schedulePollMs);
    this.timer.unref();
  }

  /** Stops; a pass in progress finishes. */
  stop(): void {
    this.stopped = true;
    this.ctx.bus.off('schedule', this.wake);
    clearInterval(this.timer);
  }

  private async pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.placeAll();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.ctx.log.error({ err }, 'scheduler pass failed');
    } finally {
      this.running = false;
    }
  }

  private async placeAll(): Promise<void> {
    const { store, config } = this.ctx;
    if (this.stopped || (await store.queue.countReady()) === 0) return;
    const candidates = this.hub.list().map((c) => ({
      nodeId: c.nodeId,
      runtimes: c.runtimes,
      labels: c.labels,
      slots: c.capacity.slots,
      free: c.freeSlots(),
    }));
    for (const cand of rankNodes(candidates, {}, config.placement)) {
      const conn = this.hub.get(cand.nodeId);
      if (!conn || conn.freeSlots() < 1) continue;
      const leases = await store.queue.leaseRuns(cand.nodeId, {
        max: conn.freeSlots(),
        leaseMs: config.leaseMs,
        runtimes: conn.runtimes,
      });
      for (const lease of leases) {
        conn.activeRuns.add(lease.run.id);
        conn.send(runStartMessage(lease.run.id, lease.epoch, lease.run.spec as RunSpec));
      }
      if (leases.length > 0) this.again = true;
    }
  }
}
