/**
 * Run output as numbered chunks, so `logs --since <seq>` and `--follow` (poll with the last seq)
 * work. Appends are fenced by the attempt epoch and its node like every agent report, and capped
 * per run.
 */
import { InvalidArgumentError } from '@tartarus/core';
import { inTransaction, lockRows, type StoreContext } from './context.js';
import { toRunLogChunk } from './rows.js';
import { requireRun } from './run-lookup.js';
import type { LogChunkInput, ReadLogsOptions } from './store.js';
import type { RunLogChunk } from './types.js';

const READ_DEFAULT = 500;
const READ_MAX = 5000;

/**
 * Appends chunks of the attempt holding `epoch`. False if the epoch is stale or its attempt was
 * not placed on `nodeId`.
 */
export async function appendLogs(
  ctx: StoreContext,
  runId: string,
  epoch: number,
  nodeId: string,
  chunks: LogChunkInput[],
): Promise<boolean> {
  for (const c of chunks) {
    if (c.stream !== 'stdout' && c.stream !== 'stderr')
      throw new InvalidArgumentError(
        `log stream must be stdout or stderr, got ${String(c.stream)}`,
      );
  }
  return inTransaction(ctx, async (trx) => {
    // The run row lock orders concurrent appends: seq numbers are unique and gap-free per run.
    const run = await lockRows(
      ctx,
      trx
        .selectFrom('runs')
        .select(['epoch', 'attempts', 'log_seq', 'log_bytes', 'logs_truncated'])
        .where('id', '=', runId)
        // The attempt of the run's current epoch was placed on the reporting node.
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('run_attempts')
              .select('run_attempts.run_id')
              .whereRef('run_attempts.run_id', '=', 'runs.id')
              .whereRef('run_attempts.epoch', '=', 'runs.epoch')
              .where('run_attempts.node_id', '=', nodeId),
          ),
        ),
    ).executeTakeFirst();
    if (run === undefined || run.epoch !== epoch) return false;
    let { log_seq: seq, log_bytes: bytes } = run;
    let truncated = run.logs_truncated !== 0;
    const now = ctx.now();
    const rows = [];
    for (const c of chunks) {
      const size = Buffer.byteLength(c.data, 'utf8');
      // Once a chunk does not fit, drop the rest too: a later small chunk would read out of order.
      if (truncated || bytes + size > ctx.logCapBytes) {
        truncated = true;
        continue;
      }
      seq += 1;
      bytes += size;
      rows.push({
        run_id: runId,
        seq,
        attempt: run.attempts,
        stream: c.stream,
        at: c.at ?? now,
        data: c.data,
      });
    }
    if (rows.length > 0) await trx.insertInto('run_logs').values(rows).execute();
    await trx
      .updateTable('runs')
      .set({ log_seq: seq, log_bytes: bytes, logs_truncated: truncated ? 1 : 0 })
      .where('id', '=', runId)
      .execute();
    return true;
  });
}

/** Reads chunks of a run of the tenant in seq order. */
export async function readLogs(
  ctx: StoreContext,
  tenantId: string,
  runId: string,
  options: ReadLogsOptions = {},
): Promise<RunLogChunk[]> {
  const limit = Math.min(options.limit ?? READ_DEFAULT, READ_MAX);
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidArgumentError('limit must be a positive integer');
  await requireRun(ctx.db, tenantId, runId);
  const rows = await ctx.db
    .selectFrom('run_logs')
    .selectAll()
    .where('run_id', '=', runId)
    .$if(options.sinceSeq !== undefined, (q) => q.where('seq', '>', options.sinceSeq ?? 0))
    .$if(options.sinceTime !== undefined, (q) => q.where('at', '>=', options.sinceTime ?? 0))
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map(toRunLogChunk);
}
