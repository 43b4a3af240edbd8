/**
 * Retention, as a step of the sweeper: run logs older than `runLogRetentionMs` after their run
 * ended, audit entries older than `auditRetentionMs`, bus events older than `eventRetentionMs` and
 * webhook deliveries finished as long ago are deleted through the store's bounded calls. It is due once a minute, or on the next sweep while a backlog is left; one sweep does at
 * most `MAX_STEPS` batches of each kind, so a huge backlog never holds up the sweeper's other work
 * (leases, node deadlines) for long. Every replica runs it; the store makes that safe.
 */
import type { ServerContext } from '../context.js';

/** How often retention is due when nothing is left over, ms. */
export const RETENTION_PERIOD_MS = 60_000;
/** Most bounded batches of each kind per sweep. */
const MAX_STEPS = 10;
/** Rows per statement. */
const BATCH = 1000;

/** What one retention pass deleted. */
export interface RetentionResult {
  expiredRuns: number;
  deletedChunks: number;
  deletedAudit: number;
  deletedEvents: number;
  deletedDeliveries: number;
}

/** The retention step of the sweeper. */
export class RetentionSweep {
  private nextAt = 0;

  constructor(private readonly ctx: ServerContext) {}

  /** Runs a pass when due (at `now`, epoch ms of the server's clock); null when not due. */
  async runIfDue(now = Date.now()): Promise<RetentionResult | null> {
    if (now < this.nextAt) return null;
    const { result, more } = await this.pass();
    this.nextAt = more ? now : now + RETENTION_PERIOD_MS;
    if (result.expiredRuns + result.deletedChunks + result.deletedAudit + result.deletedEvents + result.deletedDeliveries > 0)
      this.ctx.log.info({ ...result }, 'retention: deleted expired run logs, audit entries, events and webhook deliveries');
    return result;
  }

  /** Up to `MAX_STEPS` batches of each kind; `more` when a backlog is left. */
  async pass(): Promise<{ result: RetentionResult; more: boolean }> {
    const { store, config } = this.ctx;
    const result: RetentionResult = { expiredRuns: 0, deletedChunks: 0, deletedAudit: 0, deletedEvents: 0, deletedDeliveries: 0 };
    let logsLeft = true;
    for (let i = 0; i < MAX_STEPS && logsLeft; i++) {
      const step = await store.retention.expireRunLogs(config.runLogRetentionMs, BATCH);
      result.expiredRuns += step.expiredRuns;
      result.deletedChunks += step.deletedChunks;
      logsLeft = step.more;
    }
    let auditLeft = true;
    for (let i = 0; i < MAX_STEPS && auditLeft; i++) {
      const deleted = await store.retention.deleteOldAudit(config.auditRetentionMs, BATCH);
      result.deletedAudit += deleted;
      auditLeft = deleted === BATCH;
    }
    let eventsLeft = true;
    for (let i = 0; i < MAX_STEPS && eventsLeft; i++) {
      const deleted = await store.events.expire(Date.now() - config.eventRetentionMs, BATCH);
      result.deletedEvents += deleted;
      eventsLeft = deleted === BATCH;
    }
    let deliveriesLeft = true;
    for (let i = 0; i < MAX_STEPS && deliveriesLeft; i++) {
      const deleted = await store.webhooks.expireDeliveries(Date.now() - config.eventRetentionMs, BATCH);
      result.deletedDeliveries += deleted;
      deliveriesLeft = deleted === BATCH;
    }
    return { result, more: logsLeft || auditLeft || eventsLeft || deliveriesLeft };
  }
}
