/**
 * Schemas of the log search, `GET /v1/logs`: the logs the server keeps — runs' output (as the
 * chunks `GET /v1/runs/:id/logs` gives) and sandboxes' lifecycle lines (their events) — searched
 * by tenant, run or sandbox, time window and text, for installations that ship nothing to Loki.
 */
import { z } from 'zod';
import { IdSchema, LimitQuerySchema, TimestampSchema } from './common.js';

/** Where a line comes from: a run's output, or a sandbox's life. */
export const LogSourceSchema = z.enum(['run', 'sandbox']);
/** Where a line comes from. */
export type LogSource = z.infer<typeof LogSourceSchema>;

/**
 * GET /v1/logs query. `query`: text the line must contain (a substring, case-insensitive; on SQLite
 * only ASCII letters fold). `run` or `sandbox` (not both): one run's output or one sandbox's lines.
 * `from` (included) and `to` (excluded): ISO 8601 times; default everything kept. `order`:
 * `newest` (default) or `oldest` first. `tenant`: admins of the bootstrap tenant only (they see
 * every tenant's lines otherwise; everyone else sees their own).
 */
export const LogSearchQuerySchema = z.strictObject({
  query: z
    .string()
    .min(1, 'query must not be empty: leave it out to match every line')
    .max(256, 'query must be at most 256 characters')
    .optional(),
  run: z.string().regex(/^run_[A-Za-z0-9_-]{1,124}$/, 'run must be a run id (run_…)').optional(),
  sandbox: z.string().regex(/^sbx_[A-Za-z0-9_-]{1,124}$/, 'sandbox must be a sandbox id (sbx_…)').optional(),
  from: z.iso.datetime({ offset: true, error: 'from must be an ISO 8601 time such as 2026-12-01T08:00:00Z' }).optional(),
  to: z.iso.datetime({ offset: true, error: 'to must be an ISO 8601 time such as 2026-12-01T09:00:00Z' }).optional(),
  order: z.enum(['newest', 'oldest'], { error: 'order must be newest or oldest' }).default('newest'),
  limit: LimitQuerySchema,
  cursor: z.string().min(1).max(512).optional(),
  tenant: IdSchema.optional(),
});
/** GET /v1/logs query, as a client gives it. */
export type LogSearchQuery = Omit<z.input<typeof LogSearchQuerySchema>, 'limit'> & { limit?: number };

/**
 * One line found: a chunk of a run's output exactly as stored (it may hold several lines, or part
 * of one), or a sandbox's lifecycle line (its event's type and data: `sandbox.ended
 * {"state":"killed",…}`).
 */
export const LogLineSchema = z
  .object({
    /** When it was written (a run's chunk: the node's clock; a sandbox line: the server's). */
    at: TimestampSchema,
    tenantId: z.string(),
    source: LogSourceSchema,
    /** The run, for `source: run`; else null. */
    runId: z.string().nullable(),
    /** The sandbox, for `source: sandbox`; else null. */
    sandboxId: z.string().nullable(),
    /** The run's attempt that wrote it; null for a sandbox line. */
    attempt: z.number().int().nullable(),
    stream: z.enum(['stdout', 'stderr', 'lifecycle']),
    /** The chunk's place in its run's log (`seq` of `GET /v1/runs/:id/logs`), or the event's id. */
    seq: z.number().int(),
    data: z.string(),
  })
  .meta({ id: 'LogLine' });
/** One line found by the log search. */
export type LogLine = z.infer<typeof LogLineSchema>;

/** GET /v1/logs answer: lines in the order asked; pass `nextCursor` back as `cursor` (null: no more). */
export const LogPageSchema = z
  .object({ items: z.array(LogLineSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'LogPage' });
/** A page of the log search. */
export type LogPage = z.infer<typeof LogPageSchema>;
