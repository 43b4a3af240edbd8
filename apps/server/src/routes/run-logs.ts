/**
 * `GET /v1/runs/:id/logs`: JSON pages (`since` = last seq seen), or SSE when `follow=true` or
 * `Accept: text/event-stream` — `log` events as chunks are stored, then `end` with the final state.
 * Once retention deleted a run's logs the route answers 410 Gone, saying when and why.
 * Followers re-read the store when the bus says the run changed (and every second regardless, for
 * changes made by another replica).
 */
import {
  GoneError,
  IdParamsSchema,
  RunLogsQuerySchema,
  RunLogsResponseSchema,
  type RunLogEntry,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { openSse, wantsEventStream } from '../http/sse.js';
import { isFinalRun as isFinal } from '@tartarus/core';
import { iso } from '../http/convert.js';
import type { Run, RunLogChunk } from '../store/index.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

function entry(c: RunLogChunk): RunLogEntry {
  return { seq: c.seq, attempt: c.attempt, stream: c.stream, data: c.data, timeMs: c.at };
}

const UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
] as const;

/** `ms` in the largest whole unit: `7 days`, `36 hours`, `90 minutes`, `1500 ms`. */
export function wholeDuration(ms: number): string {
  for (const [unit, size] of UNITS) {
    if (ms % size === 0) return `${ms / size} ${unit}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}

/** The 410 for a run whose logs retention deleted. */
function logsExpired(run: Run, retentionMs: number): GoneError {
  const ended = run.endedAt === null ? '' : ` (it ended at ${iso(run.endedAt)})`;
  return new GoneError(
    `the logs of run ${run.id} expired${ended}: the server keeps run output for ` +
      `${wholeDuration(retentionMs)} after a run ends (server option runLogRetentionMs); ` +
      `its result is still at GET /v1/runs/${run.id}`,
    { context: { runId: run.id, logsExpiredAt: iso(run.logsExpiredAt ?? 0) } },
  );
}

/** Registers the run log route. */
export const runLogRoutes: RouteModule = (app, { ctx }) => {
  app.get('/v1/runs/:id/logs', {
    config: { access: 'viewer' },
    schema: {
      tags: ['runs'],
      summary: 'Logs of a run (SSE with follow=true)',
      params: IdParamsSchema,
      querystring: RunLogsQuerySchema,
      response: { 200: RunLogsResponseSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const tenantId = principalOf(req).tenantId;
      const runId = req.params.id;
      const { since, limit, follow } = req.query;
      const known = await ctx.store.runs.get(tenantId, runId); // 404 before anything else
      if (known.logsExpiredAt !== null) throw logsExpired(known, ctx.config.runLogRetentionMs);
      if (!(follow === true || wantsEventStream(req))) {
        const items = (
          await ctx.store.runs.readLogs(tenantId, runId, { sinceSeq: since, limit })
        ).map(entry);
        return { items, nextSince: items.at(-1)?.seq ?? since };
      }
      const sse = openSse(req, reply);
      let seq = since;
      // A change announced while the reads below are in flight must not be missed (it would cost
      // the full 1 s wait): `changed` remembers it until the next round reads again.
      let changed = false;
      let wake: () => void = () => undefined;
      const onChange = () => {
        changed = true;
        wake();
      };
      ctx.bus.on(`run:${runId}`, onChange);
      try {
        while (!sse.signal.aborted) {
          changed = false;
          const run = await ctx.store.runs.get(tenantId, runId);
          for (;;) {
            const chunks = await ctx.store.runs.readLogs(tenantId, runId, {
              sinceSeq: seq,
              limit: 1000,
            });
            for (const c of chunks) sse.send('log', entry(c));
            seq = chunks.at(-1)?.seq ?? seq;
            if (chunks.length < 1000) break;
          }
          // The state was read before the logs, so every chunk of a final run has been sent.
          if (isFinal(run.state)) {
            sse.send('end', { state: run.state });
            break;
          }
          if (changed) continue;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 1000);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
            sse.signal.addEventListener('abort', wake, { once: true });
          });
        }
      } finally {
        ctx.bus.off(`run:${runId}`, onChange);
        sse.end();
      }
      return reply;
    },
  });
};
