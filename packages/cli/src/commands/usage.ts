/**
 * `tartarus usage`: what the tenant's work consumed (CPU, memory over time, sandbox time, egress),
 * by day, tenant or runtime, as a table, JSON or CSV (`--csv`, for spreadsheets and billing).
 */
import { Command, InvalidArgumentError as FlagError } from 'commander';
import type { UsageFigures, UsageGroup, UsageRow } from '@tartarus/sdk';
import { parseDurationMs } from '@tartarus/core/base';
import { connect } from '../connection.js';
import { allOptions, choiceFlag, withJson } from '../options.js';
import { printJson, printTable } from '../output.js';

const GROUPS: readonly UsageGroup[] = ['day', 'tenant', 'runtime'];

/**
 * A time flag: a date (`2026-12-01`, midnight UTC), an ISO 8601 time, or an age (`7d`, `12h`,
 * `30m`: that long ago), as the ISO time the API takes.
 */
export function timeFlag(text: string): string {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t) && !Number.isNaN(Date.parse(`${t}T00:00:00Z`))) return `${t}T00:00:00.000Z`;
  if (/^\d{4}-\d{2}-\d{2}T/.test(t) && !Number.isNaN(Date.parse(t))) return new Date(t).toISOString();
  const age = /^(\d+)d$/.exec(t);
  if (age) return new Date(Date.now() - Number(age[1]) * 86_400_000).toISOString();
  try {
    return new Date(Date.now() - parseDurationMs(t)).toISOString();
  } catch {
    throw new FlagError(`"${text}" is not a time: give a date (2026-12-01), an ISO time (2026-12-01T08:00:00Z) or an age (7d, 12h)`);
  }
}

/** Bytes for people: `512 B`, `1.5 MiB`. */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Builds `tartarus usage`. */
export function usageCommand(): Command {
  const cmd = new Command('usage')
    .description('show what work consumed: CPU seconds, memory GiB-seconds, sandbox seconds and egress, by day, tenant or runtime')
    .option('--from <time>', 'start of the window: a date, an ISO time or an age like 7d (default 30 days ago)', timeFlag)
    .option('--to <time>', 'end of the window (default now)', timeFlag)
    .option('--group <by>', 'sum by day, tenant or runtime (default day)', choiceFlag(GROUPS))
    .option('--tenant <id>', "one tenant's usage (admins of the bootstrap tenant; default every tenant for them, your own otherwise)")
    .option('--csv', 'print CSV (a header, then one line per row) for spreadsheets and billing');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ from?: string; to?: string; group?: UsageGroup; tenant?: string; csv?: boolean; json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const query = { from: o.from, to: o.to, group: o.group, tenant: o.tenant };
    if (o.csv) return void process.stdout.write(await client.usage.csv(query));
    const report = await client.usage.get(query);
    if (o.json) return printJson(report);
    process.stdout.write(`usage by ${report.group} from ${report.from} to ${report.to}\n`);
    const total: UsageRow = { key: 'TOTAL', ...report.total };
    printTable<UsageFigures & { key: string }>([...report.rows, total], [
      { header: report.group, get: (r) => r.key },
      { header: 'cpu-s', get: (r) => r.cpuSeconds.toFixed(2) },
      { header: 'mem-GiB-s', get: (r) => r.memoryGibSeconds.toFixed(3) },
      { header: 'sandbox-s', get: (r) => r.sandboxSeconds.toFixed(1) },
      { header: 'egress', get: (r) => bytes(r.egressBytes) },
      { header: 'sandboxes', get: (r) => r.sandboxes },
    ]);
  });
}
