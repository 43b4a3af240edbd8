/**
 * One warning per database outage, not one per failed call: a loop that polls the store every
 * second (or every request a load balancer's probe makes) would otherwise write a line a second
 * for as long as PostgreSQL is down. The end of an outage is logged once too, when the caller
 * says a call succeeded; callers that cannot say so (request handlers) start a new outage after
 * `QUIET_MS` without a failure.
 */
import { unreachableReason } from './unreachable.js';

/** The part of the server's logger this needs (structural: the store does not import the server). */
export interface OutageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Failures further apart than this belong to separate outages, ms. */
const QUIET_MS = 60_000;

/** Tracks the outages one loop (or one kind of caller) sees. */
export class StoreOutageLog {
  private downSince: number | undefined;
  private lastFailureAt = 0;
  private failures = 0;

  /** `what` names the caller in the lines, e.g. `scheduler`. */
  constructor(
    private readonly log: OutageLogger,
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether an outage is in progress (a failure seen, no success since). */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  /**
   * Whether `err` means the database cannot be reached. If so it is noted (and logged if it
   * starts an outage) and the caller logs nothing more; if not the caller handles it as before.
   */
  failed(err: unknown): boolean {
    const reason = unreachableReason(err);
    if (reason === null) return false;
    const now = this.now();
    if (this.downSince === undefined || now - this.lastFailureAt > QUIET_MS) {
      this.downSince = now;
      this.failures = 0;
      this.log.warn(
        { reason, err },
        `${this.what}: the database cannot be reached (${reason}); retrying until it answers`,
      );
    }
    this.failures++;
    this.lastFailureAt = now;
    return true;
  }

  /** A store call succeeded: ends the outage in progress, if any, with one line. */
  succeeded(): void {
    if (this.downSince === undefined) return;
    this.log.info(
      { downMs: this.now() - this.downSince, failures: this.failures },
      `${this.what}: the database answers again`,
    );
    this.downSince = undefined;
  }
}
