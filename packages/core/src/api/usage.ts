/**
 * Schemas of usage metering: what each tenant's work consumed, measured from the cgroup
 * accounting of its sandboxes (CPU time, memory held over time, wall time per runtime) and the
 * byte counters of their network links, summed by day, tenant or runtime.
 */
import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';

/** How `GET /v1/usage` sums: per UTC day, per tenant, or per runtime. */
export const UsageGroupSchema = z.enum(['day', 'tenant', 'runtime']);
/** How usage is summed. */
export type UsageGroup = z.infer<typeof UsageGroupSchema>;

/**
 * GET /v1/usage query. `from`/`to` are ISO 8601 times (default: the last 30 days up to now);
 * `tenant` (admins of the bootstrap tenant only) picks one tenant, else every tenant for them and
 * the caller's own for everyone else. `format=csv` answers `text/csv` with one line per row.
 */
export const UsageQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  group: UsageGroupSchema.default('day'),
  tenant: IdSchema.optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
/** GET /v1/usage query. */
export type UsageQuery = z.input<typeof UsageQuerySchema>;

/** Consumption counters; the same fields for a row and for the total. */
export const UsageFiguresSchema = z.object({
  /** CPU time used by the sandboxes' processes (user + system), in seconds. */
  cpuSeconds: z.number(),
  /** Memory held over time: the integral of the sandboxes' memory use, in GiB × seconds. */
  memoryGibSeconds: z.number(),
  /** Wall time the sandboxes existed (created to destroyed), in seconds. */
  sandboxSeconds: z.number(),
  /** Bytes the sandboxes sent out over their network link (0 without networking). */
  egressBytes: z.number().int(),
  /** Sandboxes (interactive or a run's) that contributed. */
  sandboxes: z.number().int(),
});
/** Consumption counters. */
export type UsageFigures = z.infer<typeof UsageFiguresSchema>;

/** One row: the group's key (`2026-12-01`, a tenant id, or `container`/`gvisor`/`microvm`) and its figures. */
export const UsageRowSchema = UsageFiguresSchema.extend({ key: z.string() }).meta({ id: 'UsageRow' });
/** One row of a usage report. */
export type UsageRow = z.infer<typeof UsageRowSchema>;

/** GET /v1/usage answer: the window, the grouping, rows in key order, and their total. */
export const UsageReportSchema = z
  .object({
    from: TimestampSchema,
    to: TimestampSchema,
    group: UsageGroupSchema,
    rows: z.array(UsageRowSchema),
    total: UsageFiguresSchema,
  })
  .meta({ id: 'UsageReport' });
/** A usage report. */
export type UsageReport = z.infer<typeof UsageReportSchema>;
