/**
 * Run output as numbered chunks, so `logs --since <seq>` and `--follow` (poll with the last seq)
 * work. Appends are fenced by the attempt epoch and its node like every agent report, and bounded
 * twice: per run (`logCapBytes`) and per tenant (`maxLogBytes`, against the tenant's `log_bytes`
 * counter, moved in the append's own transaction — never a SUM over the chunks). Output past
 * either bound is dropped and recorded on the run (`logs_dropped`, per stream), never an error.
 */
import { InvalidArgumentError, type LogsDropped } from '@tartarus/core';
import type { Transaction } from 'kysely';
import { inTransaction, lockRows, type StoreContext } from './context.js';
import { toRunLogChunk } from './rows.js';
import { requireRun } from './run-lookup.js';
import type { Database } from './schema.js';
import type { LogChunkInput, ReadLogsOptions } from './store.js';
import type { RunLogChunk } from './types.js';

const READ_DEFAULT = 500;
const READ_MAX = 5000;

/** What one append keeps of its chunks. */
interface Admitted {
  /** Chunks kept, in order. */
  kept: LogChunkInput[];
  /** Their bytes (UTF-8). */
  bytes: number;
  /** Why the run's output is dropped from here on (set before, or now); null: none is. */
  reason: LogsDropped | null;
  /** Whether this append dropped a chunk of each stream. */
  stdout: boolean;
  stderr: boolean;
}

/**
 * Splits `chunks` into kept and dropped. Once a chunk does not fit — the run's cap or the room
 * left in the tenant's quota — it and every later one are dropped: a later small chunk would read
 * out of order. A run that dropped output before keeps dropping (its log stays a prefix).
 */
export function admitChunks(
  chunks: LogChunkInput[],
  run: { bytes: number; reason: LogsDropped | null },
  room: { runCapBytes: number; tenantBytes: number },
): Admitted {
  const out: Admitted = { kept: [], bytes: 0, reason: run.reason, stdout: false, stderr: false };
  for (const c of chunks) {
    const size = Buffer.byteLength(c.data, 'utf8');
    if (out.reason === null) {
      if (run.bytes + out.bytes + size > room.runCapBytes) out.reason = 'run-cap';
      else if (out.bytes + size > room.tenantBytes) out.reason = 'tenant-quota';
    }
    if (out.reason !== null) {
      out[c.stream] = true;
      continue;
    }
    out.bytes += size;
    out.kept.push(c);
  }
  return out;
}

/**
 * The run's tenant row, locked. Taken before the run's row, in the order submissions, tenant
 * deletes and the retention sweep take them, so none of them can deadlock with an append.
 */
function lockRunTenant(ctx: StoreContext, trx: Transaction<Database>, runId: string) {
  return lockRows(
    ctx,
    trx
      .selectFrom('tenants')
      .select(['id', 'log_bytes', 'max_log_bytes'])
      .where('id', '=', trx.selectFrom('runs').select('tenant_id').where('id', '=', runId)),
  ).executeTakeFirst();
}

/** The columns of a run an append reads. */
type LockedRun = NonNullable<Awaited<ReturnType<typeof lockRunOnNode>>>;

/** The run row, locked, if its current attempt is on `nodeId` and its logs have not expired. */
function lockRunOnNode(
  ctx: StoreContext,
  trx: Transaction<Database>,
  runId: string,
  nodeId: string,
) {
  // The run row lock orders concurrent appends: seq numbers are unique and gap-free per run.
  return lockRows(
    ctx,
    trx
      .selectFrom('runs')
      .select(['epoch', 'attempts', 'log_seq', 'log_bytes', 'logs_dropped'])
      .select(['stdout_dropped', 'stderr_dropped'])
      .where('id', '=', runId)
      .where('logs_expired_at', 'is', null)
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
}

/** Stores what `admitChunks` kept and moves the run's and the tenant's byte counts. */
async function saveAppend(
  ctx: StoreContext,
  trx: Transaction<Database>,
  run: LockedRun & { runId: string; tenantId: string },
  a: Admitted,
): Promise<void> {
  const now = ctx.now();
  const rows = a.kept.map((c, i) => ({
    run_id: run.runId,
    seq: run.log_seq + i + 1,
    attempt: run.attempts,
    stream: c.stream,
    at: c.at ?? now,
    data: c.data,
  }));
  if (rows.length > 0) await trx.insertInto('run_logs').values(rows).execute();
  if (rows.length === 0 && !a.stdout && !a.stderr) return;
  const firstAt = rows[0]?.at;
  await trx
    .updateTable('runs')
    .set((eb) => ({
      // The first output of the attempt (a phase): kept once set.
      ...(firstAt === undefined ? {} : { first_output_at: eb.fn.coalesce('first_output_at', eb.val(firstAt)) }),
      log_seq: run.log_seq + rows.length,
      log_bytes: run.log_bytes + a.bytes,
      logs_truncated: a.reason === null ? 0 : 1,
      logs_dropped: a.reason,
      stdout_dropped: a.stdout ? 1 : run.stdout_dropped,
      stderr_dropped: a.stderr ? 1 : run.stderr_dropped,
    }))
    .where('id', '=', run.runId)
    .execute();
  if (a.bytes > 0) {
    await trx
      .updateTable('tenants')
      .set((eb) => ({ log_bytes: eb('log_bytes', '+', a.bytes) }))
      .where('id', '=', run.tenantId)
      .execute();
  }
}

/**
 * Appends chunks of the attempt holding `epoch`. False if the epoch is stale, its attempt was not
 * placed on `nodeId`, or the run's logs expired.
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
    const tenant = await lockRunTenant(ctx, trx, runId);
    const run = tenant && (await lockRunOnNode(ctx, trx, runId, nodeId));
    if (tenant === undefined || run === undefined || run.epoch !== epoch) return false;
    const a = admitChunks(
      chunks,
      { bytes: run.log_bytes, reason: run.logs_dropped as LogsDropped | null },
      {
        runCapBytes: ctx.logCapBytes,
        tenantBytes: Math.max(0, tenant.max_log_bytes - tenant.log_bytes),
      },
    );
    await saveAppend(ctx, trx, { runId, tenantId: tenant.id, ...run }, a);
    return true;
  });
}

/** Reads chunks of a run of the tenant in seq order; none once its logs expired. */
export async function readLogs(
  ctx: StoreContext,
  tenantId: string,
  runId: string,
  options: ReadLogsOptions = {},
): Promise<RunLogChunk[]> {
  const limit = Math.min(options.limit ?? READ_DEFAULT, READ_MAX);
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidArgumentError('limit must be a positive integer');
  const run = await requireRun(ctx.db, tenantId, runId);
  // Chunks of an expired run may still be there while the sweep deletes them in batches.
  if (run.logsExpiredAt !== null) return [];
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
