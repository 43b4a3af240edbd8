/**
 * The retention contract: what the sweeper calls to keep run output and the audit log bounded in
 * time. Design rules:
 *
 * - **Bounded.** Every call does one step: no statement touches more than `batch` rows, so a huge
 *   backlog never holds a long transaction; the caller calls again while `more` says so.
 * - **Concurrent replicas.** Several servers may sweep at once: on PostgreSQL each claims its rows
 *   with `FOR UPDATE SKIP LOCKED` and re-checks them under the lock, so a row is expired or
 *   deleted once, and nobody waits on another sweeper. (SQLite has one writer at a time.)
 * - **Accounting.** A run's kept bytes leave its tenant's `logBytes` in the same transaction that
 *   marks its logs expired; the chunks are deleted afterwards, in batches, and are invisible
 *   (`readLogs` returns none) from the moment the run is marked.
 * - **Time.** Cut-offs are `now - retentionMs` on the store's clock (`StoreOptions.clock`).
 */

/** What one step of run-log retention did. */
export interface RunLogSweep {
  /** Runs whose logs were marked expired (their row stays, with `logsExpiredAt`). */
  expiredRuns: number;
  /** Chunks deleted. */
  deletedChunks: number;
  /** Whether work is left: call again. */
  more: boolean;
}

/** Deleting what is older than the server keeps. */
export interface RetentionStore {
  /**
   * One step of run-log retention: the logs of up to `batch` runs that ended more than
   * `retentionMs` ago are marked expired and their bytes leave their tenants' `logBytes`; then up
   * to `batch` chunks of expired runs are deleted. `batch` default 1000.
   * InvalidArgumentError unless `retentionMs` is a positive integer and `batch` 1–10000.
   */
  expireRunLogs(retentionMs: number, batch?: number): Promise<RunLogSweep>;
  /**
   * Deletes up to `batch` audit entries (oldest first) recorded more than `retentionMs` ago;
   * returns how many. `batch` default 1000. Same argument checks as `expireRunLogs`.
   */
  deleteOldAudit(retentionMs: number, batch?: number): Promise<number>;
}
