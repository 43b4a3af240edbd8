/** Usage metering: `GET /v1/usage`, the sums of what tenants' work consumed, as JSON or CSV. */
import {
  InvalidArgumentError,
  PermissionDeniedError,
  UsageQuerySchema,
  UsageReportSchema,
  type UsageGroup,
  type UsageReport,
} from '@tartarus/core';
import { BOOTSTRAP_TENANT_ID, principalOf, type Principal } from '../http/auth.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const DAY_MS = 86_400_000;
/** The default window: the last 30 days. */
const DEFAULT_WINDOW_MS = 30 * DAY_MS;
/** The longest window summed by day (one row per day). */
const MAX_DAY_ROWS = 366;

/** The tenant the caller may see: one they name (admins of the bootstrap tenant), else their own. */
function tenantScope(p: Principal, asked: string | undefined): string | undefined {
  const system = p.role === 'admin' && p.tenantId === BOOTSTRAP_TENANT_ID;
  if (system) return asked;
  if (asked !== undefined && asked !== p.tenantId)
    throw new PermissionDeniedError(
      `only an admin of the bootstrap tenant "${BOOTSTRAP_TENANT_ID}" sees another tenant's usage: leave out tenant, or ask for your own (${p.tenantId})`,
    );
  return p.tenantId;
}

/** The window in epoch ms, checked. */
function windowOf(q: { from?: string | undefined; to?: string | undefined; group: UsageGroup }): { fromMs: number; toMs: number } {
  const toMs = q.to === undefined ? Date.now() : Date.parse(q.to);
  const fromMs = q.from === undefined ? toMs - DEFAULT_WINDOW_MS : Date.parse(q.from);
  if (fromMs >= toMs)
    throw new InvalidArgumentError(`from (${new Date(fromMs).toISOString()}) must be before to (${new Date(toMs).toISOString()})`);
  if (q.group === 'day' && toMs - fromMs > MAX_DAY_ROWS * DAY_MS)
    throw new InvalidArgumentError(
      `a report by day spans at most ${MAX_DAY_ROWS} days: narrow from/to, or group by tenant or runtime`,
    );
  return { fromMs, toMs };
}

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function csvField(v: string | number): string {
  const s = typeof v === 'number' ? String(Number(v.toFixed(6))) : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The report as CSV: a header naming the group, then one line per row. */
export function usageCsv(r: UsageReport): string {
  const header = [r.group, 'cpu_seconds', 'memory_gib_seconds', 'sandbox_seconds', 'egress_bytes', 'sandboxes'];
  const lines = r.rows.map((row) =>
    [row.key, row.cpuSeconds, row.memoryGibSeconds, row.sandboxSeconds, row.egressBytes, row.sandboxes].map(csvField).join(','),
  );
  return [header.join(','), ...lines].join('\r\n') + '\r\n';
}

/** Registers the usage route. */
export const usageRoutes: RouteModule = (app, { ctx }) => {
  app.get('/v1/usage', {
    config: { access: 'viewer' },
    schema: {
      tags: ['usage'],
      summary: 'Usage: CPU, memory, sandbox time and egress, by day, tenant or runtime',
      description:
        "Sums the agents' usage reports (cgroup CPU time, memory integrated over time, sandbox wall time, bytes sent over the sandbox's network link) in a window (default: the last 30 days). Admins of the bootstrap tenant see every tenant (or `tenant`); others see their own. `format=csv` answers `text/csv`.",
      querystring: UsageQuerySchema,
      response: { 200: UsageReportSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const q = req.query;
      const tenantId = tenantScope(principalOf(req), q.tenant);
      const { fromMs, toMs } = windowOf(q);
      const { rows, total } = await ctx.store.usage.report({ tenantId, fromMs, toMs, group: q.group });
      const report: UsageReport = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), group: q.group, rows, total };
      if (q.format === 'json') return report;
      const name = `usage-by-${q.group}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        // A string is sent as is (fastify serializes only objects); the schema describes the JSON form.
        .send(usageCsv(report) as unknown as UsageReport);
    },
  });
};
