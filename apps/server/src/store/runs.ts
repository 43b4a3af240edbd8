/** Runs as users see them: submit (idempotent, quota-checked), read, list, cancel. */
import {
  ConflictError,
  InvalidArgumentError,
  isFinalRun,
  newId,
  QuotaExceededError,
} from '@tartarus/core';
import type { Transaction } from 'kysely';
import { emitEvent } from './events.js';
import { inTransaction, lockRows, type StoreContext } from './context.js';
import { priorityRank, toRun, toRunAttempt } from './rows.js';
import type { Database } from './schema.js';
import type { RunStore, SubmitRunOptions } from './store.js';
import type { BackoffPolicy, Run, WorkloadSpec } from './types.js';
import { canonicalJson, newestFirstPage, sha256 } from './util.js';
import { appendLogs, readLogs } from './run-logs.js';
import { requireRun } from './run-lookup.js';
import { lockTenant } from './tenants.js';

/** Default of `SubmitRunOptions.backoff`. */
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000 };
const MAX_ATTEMPTS_LIMIT = 100;

interface ResolvedSubmit {
  maxAttempts: number;
  backoff: BackoffPolicy;
  requestHash: string;
}

function resolveSubmit(spec: WorkloadSpec, options: SubmitRunOptions): ResolvedSubmit {
  // Without a command a run executes its image's ENTRYPOINT + CMD; a built-in template has none.
  if (spec.lifecycle !== 'once' || (spec.command === null && spec.image === null && spec.entrypoint === null)) {
    throw new InvalidArgumentError('a run needs a compiled spec with lifecycle once and a command (or an image)');
  }
  const maxAttempts = options.maxAttempts ?? spec.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new InvalidArgumentError(
      `maxAttempts must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}, got ${maxAttempts}`,
    );
  }
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  if (!(backoff.initialMs >= 0 && backoff.maxMs >= backoff.initialMs)) {
    throw new InvalidArgumentError('backoff must have 0 <= initialMs <= maxMs');
  }
  // The hash covers everything that shapes the run, so a replay with another body is told apart.
  const requestHash = sha256(canonicalJson({ spec, maxAttempts, backoff }));
  return { maxAttempts, backoff, requestHash };
}

async function insertRun(
  ctx: StoreContext,
  trx: Transaction<Database>,
  tenantId: string,
  spec: WorkloadSpec,
  key: string | null,
  r: ResolvedSubmit,
): Promise<Run> {
  const now = ctx.now();
  const row = await trx
    .insertInto('runs')
    .values({
      id: newId('run'),
      tenant_id: tenantId,
      idempotency_key: key,
      request_hash: r.requestHash,
      spec_json: JSON.stringify({ ...spec, maxAttempts: r.maxAttempts }),
      runtime: spec.runtime,
      priority: priorityRank(spec.priority),
      state: 'queued',
      attempts: 0,
      max_attempts: r.maxAttempts,
      backoff_initial_ms: r.backoff.initialMs,
      backoff_max_ms: r.backoff.maxMs,
      next_eligible_at: now,
      lease_node_id: null,
      lease_expires_at: null,
      epoch: 0,
      exit_code: null,
      reason: null,
      stdout_truncated: 0,
      stderr_truncated: 0,
      error_message: null,
      log_seq: 0,
      log_bytes: 0,
      logs_truncated: 0,
      logs_dropped: null,
      stdout_dropped: 0,
      stderr_dropped: 0,
      logs_expired_at: null,
      created_at: now,
      updated_at: now,
      started_at: null,
      ended_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRun(row);
}

async function submit(
  ctx: StoreContext,
  tenantId: string,
  spec: WorkloadSpec,
  options: SubmitRunOptions = {},
) {
  const resolved = resolveSubmit(spec, options);
  const key = options.idempotencyKey ?? null;
  return inTransaction(ctx, async (trx) => {
    // The tenant row lock serializes one tenant's submissions on PostgreSQL: the idempotency
    // lookup and the quota count below cannot race another replica's insert.
    const tenant = await lockTenant(ctx, trx, tenantId);
    if (key !== null) {
      const prior = await trx
        .selectFrom('runs')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
      if (prior !== undefined) {
        if (prior.request_hash === resolved.requestHash)
          return { run: toRun(prior), created: false };
        throw new ConflictError(
          `idempotency key ${key} was used for another request (run ${prior.id}): use a new key`,
          {
            context: { idempotencyKey: key, runId: prior.id },
          },
        );
      }
    }
    const queued = await trx
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'queued')
      .executeTakeFirstOrThrow();
    if (Number(queued.n) >= tenant.max_queued_runs) {
      throw new QuotaExceededError(
        `tenant ${tenantId} has ${queued.n} runs queued, its limit is ${tenant.max_queued_runs}`,
        ctx.quotaRetryAfterMs,
        {
          context: { tenantId, limit: tenant.max_queued_runs },
        },
      );
    }
    const run = await insertRun(ctx, trx, tenantId, spec, key, resolved);
    await emitEvent(ctx, trx, { tenantId, type: 'run.queued', objectId: run.id, data: { state: 'queued', attempt: 0, template: spec.template, runtime: spec.runtime, priority: spec.priority } });
    return { run, created: true };
  });
}

async function cancel(ctx: StoreContext, tenantId: string, runId: string): Promise<Run> {
  return inTransaction(ctx, async (trx) => {
    await lockRows(
      ctx,
      trx.selectFrom('runs').select('id').where('id', '=', runId).where('tenant_id', '=', tenantId),
    ).execute();
    const run = await requireRun(trx, tenantId, runId);
    if (isFinalRun(run.state)) return run;
    const now = ctx.now();
    // The epoch is kept: the agent's next report for it finds the run cancelled and gets `false`.
    await trx
      .updateTable('runs')
      .set({
        state: 'cancelled',
        reason: 'cancelled',
        exit_code: null,
        error_message: null,
        lease_node_id: null,
        lease_expires_at: null,
        ended_at: now,
        attempt_ended_at: now,
        updated_at: now,
      })
      .where('id', '=', runId)
      .execute();
    await trx
      .updateTable('run_attempts')
      .set({ ended_at: now, reason: 'cancelled' })
      .where('run_id', '=', runId)
      .where('epoch', '=', run.epoch)
      .where('ended_at', 'is', null)
      .execute();
    await emitEvent(ctx, trx, { tenantId, type: 'run.finished', objectId: runId, data: { state: 'cancelled', reason: 'cancelled', exitCode: null, attempt: run.attempts } });
    return requireRun(trx, tenantId, runId);
  });
}

/** Builds the user-facing run part of the store. */
export function createRunStore(ctx: StoreContext): RunStore {
  const { db } = ctx;
  return {
    submit: (tenantId, spec, options) => submit(ctx, tenantId, spec, options),
    get: (tenantId, runId) => requireRun(db, tenantId, runId),
    list: (tenantId, options) =>
      newestFirstPage(
        db
          .selectFrom('runs')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .$if(options?.state !== undefined, (q) => q.where('state', '=', options?.state ?? '')),
        'created_at',
        options,
        toRun,
      ),
    async attempts(tenantId, runId) {
      await requireRun(db, tenantId, runId);
      const rows = await db
        .selectFrom('run_attempts')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('attempt')
        .execute();
      return rows.map(toRunAttempt);
    },
    cancel: (tenantId, runId) => cancel(ctx, tenantId, runId),
    appendLogs: (runId, epoch, nodeId, chunks) => appendLogs(ctx, runId, epoch, nodeId, chunks),
    readLogs: (tenantId, runId, options) => readLogs(ctx, tenantId, runId, options),
  };
}
