/**
 * `tartarus logs search [TEXT]`: lines of runs' output and sandboxes' lifecycle that contain TEXT
 * (case-insensitive), by run or sandbox and time window; the latest matches (or the first, with
 * `--oldest`), printed oldest first, one output line per line, each with when and whose it is.
 */
import { Command } from 'commander';
import type { LogLine, LogSearchQuery } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, positiveIntFlag } from '../../options.js';
import { timeFlag } from '../usage.js';

interface SearchOptions {
  run?: string;
  sandbox?: string;
  from?: string;
  to?: string;
  limit?: number;
  oldest?: boolean;
  tenant?: string;
  json?: boolean;
}

/** A found line for people: each line of its text after its time, object and stream. */
export function formatLogLine(l: LogLine): string {
  const head = `${l.at}  ${l.runId ?? l.sandboxId ?? ''}  ${l.stream}  `;
  const text = l.data.endsWith('\n') ? l.data.slice(0, -1) : l.data;
  return text
    .split('\n')
    .map((t) => `${head}${t}\n`)
    .join('');
}

/** Up to `limit` matching lines, in the order the server gives them. */
async function collect(search: (q: LogSearchQuery) => Promise<{ items: LogLine[]; nextCursor: string | null }>, query: LogSearchQuery, limit: number): Promise<LogLine[]> {
  const found: LogLine[] = [];
  let cursor: string | undefined;
  do {
    const page = await search({ ...query, limit: Math.min(500, limit - found.length), ...(cursor === undefined ? {} : { cursor }) });
    found.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && found.length < limit);
  return found;
}

/** Builds `tartarus logs search`. */
export function searchCommand(): Command {
  return new Command('search')
    .description("print kept log lines containing TEXT (any case): runs' output and sandboxes' lifecycle lines, the latest first found, printed in time order")
    .argument('[text]', 'text the line contains (leave out: every line)')
    .option('--run <id>', "only this run's output")
    .option('--sandbox <id>', "only this sandbox's lines")
    .option('--from <time>', 'from this time: a date, an ISO time or an age like 1h or 7d (default: everything kept)', timeFlag)
    .option('--to <time>', 'until this time (default: now and after)', timeFlag)
    .option('--limit <n>', 'at most this many lines (default 100)', positiveIntFlag)
    .option('--oldest', 'the first matches of the window instead of the latest')
    .option('--tenant <id>', "another tenant's lines (admins of the bootstrap tenant; they search every tenant otherwise)")
    .option('--json', 'one JSON object per line found: {at, tenantId, source, runId, sandboxId, attempt, stream, seq, data}')
    .action(async (text: string | undefined, _o: unknown, self: Command) => {
      const o = allOptions<SearchOptions>(self);
      const client = await connect(o.dataDir);
      const order = o.oldest ? 'oldest' : 'newest';
      const query: LogSearchQuery = { query: text, run: o.run, sandbox: o.sandbox, from: o.from, to: o.to, tenant: o.tenant, order };
      const found = await collect((q) => client.logs.search(q), query, o.limit ?? 100);
      if (order === 'newest') found.reverse();
      for (const l of found) process.stdout.write(o.json ? `${JSON.stringify(l)}\n` : formatLogLine(l));
    });
}
