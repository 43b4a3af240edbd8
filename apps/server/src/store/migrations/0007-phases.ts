/**
 * Migration 0007, phase timings: when a run's latest attempt was placed on a node, had its
 * template ready, started, wrote its first output, ended and was cleaned up (its sandbox
 * destroyed); and when a sandbox was placed, had its template ready and was cleaned up (it
 * already records when it was requested, started and ended). Epoch ms, null until it happens.
 * They are set in the statements that already move the run or sandbox, so the run path gains no
 * statement but the cleanup's.
 */
import type { Kysely, Migration } from 'kysely';

/** The run columns (the latest attempt's). */
export const RUN_PHASE_COLUMNS = ['placed_at', 'template_ready_at', 'attempt_started_at', 'first_output_at', 'attempt_ended_at', 'cleaned_up_at'] as const;
/** The sandbox columns. */
export const SANDBOX_PHASE_COLUMNS = ['placed_at', 'template_ready_at', 'cleaned_up_at'] as const;

/** The migration. */
export const phases: Migration = {
  async up(db: Kysely<unknown>) {
    for (const col of RUN_PHASE_COLUMNS) await db.schema.alterTable('runs').addColumn(col, 'bigint').execute();
    for (const col of SANDBOX_PHASE_COLUMNS) await db.schema.alterTable('sandboxes').addColumn(col, 'bigint').execute();
  },
};
