/** Sandboxes and their state machine (see `states.ts` for the allowed transitions). */
import {
  compileSandbox,
  ConflictError,
  InvalidArgumentError,
  isEndedSandbox,
  LIVE_SANDBOX_STATES,
  newId,
  NotFoundError,
  QuotaExceededError,
  sandboxTransitions,
  type RuntimeName,
} from '@tartarus/core';
import { inTransaction, lockRows, type Db, type StoreContext } from './context.js';
import { priorityRank, toSandbox } from './rows.js';
import type { SandboxStore } from './store.js';
import { lockTenant } from './tenants.js';
import type { Sandbox, SandboxExit, SandboxState } from './types.js';
import { newestFirstPage } from './util.js';
import { emitEvent, type NewEvent } from './events.js';

async function load(db: Db, sandboxId: string, tenantId?: string): Promise<Sandbox> {
  const row = await db
    .selectFrom('sandboxes')
    .selectAll()
    .where('id', '=', sandboxId)
    .$if(tenantId !== undefined, (q) => q.where('tenant_id', '=', tenantId ?? ''))
    .executeTakeFirst();
  if (row === undefined)
    throw new NotFoundError(`sandbox ${sandboxId} not found`, { context: { sandboxId } });
  return toSandbox(row);
}

/**
 * Moves a sandbox to `to` under its row lock. With `nodeId`, only a sandbox placed on that node
 * moves (an agent's report); null when the sandbox is missing or on another node.
 */
function move(
  ctx: StoreContext,
  nodeId: string | null,
  sandboxId: string,
  to: SandboxState,
  exit: SandboxExit | undefined,
  templateReadyAt?: number,
  startedAt?: number,
): Promise<Sandbox | null> {
  return inTransaction(ctx, async (trx) => {
    // One read of the locked row, one write; the result is built from both (an agent's start
    // report is on every create's path).
    const row = await lockRows(
      ctx,
      trx
        .selectFrom('sandboxes')
        .selectAll()
        .where('id', '=', sandboxId)
        .$if(nodeId !== null, (q) => q.where('node_id', '=', nodeId ?? '')),
    ).executeTakeFirst();
    if (row === undefined) return null;
    const current = toSandbox(row);
    if (current.state === to) return current;
    if (!sandboxTransitions(current.state).includes(to)) {
      throw new ConflictError(`sandbox ${sandboxId} cannot go from ${current.state} to ${to}`, {
        context: { sandboxId, from: current.state, to },
      });
    }
    const now = ctx.now();
    const set = {
      state: to,
      ...(to === 'running' && current.startedAt === null && { started_at: startedAt === undefined ? now : Math.min(startedAt, now) }),
      // Its timeout counts from its start unless one was set before.
      ...(to === 'running' && current.startedAt === null && current.timeoutAt === null && { timeout_at: now + current.spec.timeoutMs }),
      ...(templateReadyAt !== undefined && { template_ready_at: templateReadyAt }),
      // An ended sandbox has no termination left to carry out.
      ...(isEndedSandbox(to) && { ended_at: now, terminate_at: null, termination_json: null, hibernated_at: null }),
      ...(exit !== undefined && {
        exit_code: exit.exitCode,
        exit_reason: exit.reason,
        exit_message: exit.message,
      }),
    };
    await trx.updateTable('sandboxes').set(set).where('id', '=', sandboxId).execute();
    const moved = toSandbox({ ...row, ...set });
    if (to === 'running' && current.startedAt === null)
      await emitEvent(ctx, trx, { tenantId: moved.tenantId, type: 'sandbox.started', objectId: sandboxId, data: { state: 'running', nodeId: moved.nodeId } });
    if (isEndedSandbox(to)) await emitEvent(ctx, trx, sandboxEnded(moved));
    return moved;
  });
}

/** The `sandbox.ended` event of a sandbox in its final state. */
function sandboxEnded(s: Sandbox): NewEvent {
  return { tenantId: s.tenantId, type: 'sandbox.ended', objectId: s.id, data: { state: s.state, exitCode: s.exit?.exitCode ?? null, reason: s.exit?.reason ?? null, message: s.exit?.message ?? null } };
}

/** Builds the sandbox part of the store. */
export function createSandboxStore(ctx: StoreContext): SandboxStore {
  const { db } = ctx;
  return {
    create: (tenantId, options) =>
      inTransaction(ctx, async (trx) => {
        // Locking the tenant row serializes concurrent creates of one tenant on PostgreSQL, so
        // two replicas cannot both pass the quota check with the last free slot.
        const tenant = await lockTenant(ctx, trx, tenantId);
        const live = await trx
          .selectFrom('sandboxes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_id', '=', tenantId)
          .where('state', 'in', LIVE_SANDBOX_STATES)
          .executeTakeFirstOrThrow();
        if (Number(live.n) >= tenant.max_concurrent_sandboxes) {
          throw new QuotaExceededError(
            `tenant ${tenantId} has ${live.n} live sandboxes, its limit is ${tenant.max_concurrent_sandboxes}: kill one or wait`,
            ctx.quotaRetryAfterMs,
            { context: { tenantId, limit: tenant.max_concurrent_sandboxes } },
          );
        }
        const spec =
          options.spec ??
          compileSandbox(
            { runtime: options.runtime as RuntimeName, template: options.template },
            null,
          );
        const row = {
          id: options.id ?? newId('sbx'),
          tenant_id: tenantId,
          node_id: options.nodeId ?? null,
          runtime: options.runtime,
          template: options.template,
          state: 'requested',
          spec_json: JSON.stringify(spec),
          priority: priorityRank(spec.priority),
          timeout_at: options.timeoutAt ?? null,
          created_at: ctx.now(),
          started_at: null,
          ended_at: null,
          exit_code: null,
          exit_reason: null,
          exit_message: null,
          // Placed at once when created on a node (embedded and agent-made sandboxes).
          placed_at: options.nodeId === undefined || options.nodeId === null ? null : ctx.now(),
          template_ready_at: null,
          cleaned_up_at: null,
          terminate_at: null,
          termination_json: null,
          hibernated_at: null,
          final_snapshot_id: null,
        };
        await trx.insertInto('sandboxes').values(row).execute();
        await emitEvent(ctx, trx, { tenantId, type: 'sandbox.created', objectId: row.id, data: { state: 'requested', template: row.template, runtime: row.runtime } });
        return toSandbox(row);
      }),

    get: (tenantId, sandboxId) => load(db, sandboxId, tenantId),
    find: (sandboxId) => load(db, sandboxId),

    list: (tenantId, options) =>
      newestFirstPage(
        db
          .selectFrom('sandboxes')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .$if(options?.state !== undefined, (q) => q.where('state', '=', options?.state ?? '')),
        'created_at',
        options,
        toSandbox,
      ),

    async listByNode(nodeId) {
      const rows = await db
        .selectFrom('sandboxes')
        .selectAll()
        .where('node_id', '=', nodeId)
        .where('state', 'in', [...LIVE_SANDBOX_STATES, 'lost'])
        .orderBy('created_at')
        .execute();
      return rows.map(toSandbox);
    },

    async countLive() {
      const rows = await db
        .selectFrom('sandboxes')
        .select((eb) => ['state', 'runtime', eb.fn.countAll<number>().as('n')])
        .where('state', 'in', LIVE_SANDBOX_STATES)
        .groupBy(['state', 'runtime'])
        .execute();
      return rows.map((r) => ({ state: r.state as SandboxState, runtime: r.runtime, count: Number(r.n) }));
    },

    async listExpired() {
      const rows = await db
        .selectFrom('sandboxes')
        .selectAll()
        .where('state', 'in', LIVE_SANDBOX_STATES)
        .where('timeout_at', '<=', ctx.now())
        .orderBy('timeout_at')
        .execute();
      return rows.map(toSandbox);
    },

    async assignNode(sandboxId, nodeId) {
      const result = await db
        .updateTable('sandboxes')
        .set({ node_id: nodeId, placed_at: ctx.now() })
        .where('id', '=', sandboxId)
        .where('state', '=', 'requested')
        .where('node_id', 'is', null)
        .executeTakeFirst();
      const sandbox = await load(db, sandboxId);
      if (result.numUpdatedRows === 0n)
        throw new ConflictError(`sandbox ${sandboxId} is ${sandbox.state}, not requested`);
      return sandbox;
    },

    withdraw: (sandboxId, exit) =>
      inTransaction(ctx, async (trx) => {
      const result = await trx
        .updateTable('sandboxes')
        .set({
          state: 'error',
          ended_at: ctx.now(),
          exit_code: exit.exitCode,
          exit_reason: exit.reason,
          exit_message: exit.message,
        })
        .where('id', '=', sandboxId)
        .where('state', '=', 'requested')
        .where('node_id', 'is', null)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await emitEvent(ctx, trx, sandboxEnded(await load(trx, sandboxId)));
      return true;
      }),

    transition: async (sandboxId, to, exit) => {
      const moved = await move(ctx, null, sandboxId, to, exit);
      if (moved === null)
        throw new NotFoundError(`sandbox ${sandboxId} not found`, { context: { sandboxId } });
      return moved;
    },

    transitionOnNode: (nodeId, sandboxId, to, exit, templateReadyAt, startedAt) => move(ctx, nodeId, sandboxId, to, exit, templateReadyAt, startedAt),

    async setHibernated(nodeId, sandboxId, at) {
      await db.updateTable('sandboxes').set({ hibernated_at: at }).where('id', '=', sandboxId).where('node_id', '=', nodeId).where('state', 'in', ['running', 'paused']).execute();
    },

    setFinalSnapshot: (sandboxId, snapshotId) =>
      inTransaction(ctx, async (trx) => {
        // The snapshot's row lock orders this against its delete (which clears the id it finds set):
        // a snapshot deleted meanwhile is not recorded, so no sandbox names a snapshot that is gone.
        const kept = await lockRows(ctx, trx.selectFrom('snapshots').select('id').where('id', '=', snapshotId)).executeTakeFirst();
        if (kept !== undefined) await trx.updateTable('sandboxes').set({ final_snapshot_id: snapshotId }).where('id', '=', sandboxId).execute();
      }),

    async recordCleanup(nodeId, sandboxId, at) {
      await db.updateTable('sandboxes').set({ cleaned_up_at: at }).where('id', '=', sandboxId).where('node_id', '=', nodeId).execute();
    },

    setTermination: (tenantId, sandboxId, t) =>
      inTransaction(ctx, async (trx) => {
        await lockRows(ctx, trx.selectFrom('sandboxes').select('id').where('id', '=', sandboxId)).executeTakeFirst();
        const current = await load(trx, sandboxId, tenantId);
        if (isEndedSandbox(current.state)) throw new ConflictError(`sandbox ${sandboxId} has ended (${current.state})`);
        if (current.termination?.begun) throw new ConflictError(`sandbox ${sandboxId} is being terminated already`);
        await trx
          .updateTable('sandboxes')
          .set({ terminate_at: t.at, termination_json: JSON.stringify({ ...t, begun: false }) })
          .where('id', '=', sandboxId)
          .execute();
        return load(trx, sandboxId, tenantId);
      }),

    cancelTermination: (tenantId, sandboxId) =>
      inTransaction(ctx, async (trx) => {
        await lockRows(ctx, trx.selectFrom('sandboxes').select('id').where('id', '=', sandboxId)).executeTakeFirst();
        const current = await load(trx, sandboxId, tenantId);
        if (current.termination === null) return { outcome: 'none' as const, sandbox: current };
        if (current.termination.begun) return { outcome: 'begun' as const, sandbox: current };
        await trx.updateTable('sandboxes').set({ terminate_at: null, termination_json: null }).where('id', '=', sandboxId).execute();
        return { outcome: 'cancelled' as const, sandbox: await load(trx, sandboxId, tenantId) };
      }),

    async listTerminationsDue() {
      const rows = await db
        .selectFrom('sandboxes')
        .selectAll()
        .where('state', 'in', LIVE_SANDBOX_STATES)
        .where('terminate_at', '<=', ctx.now())
        .orderBy('terminate_at')
        .execute();
      return rows.map(toSandbox);
    },

    async claimTermination(sandboxId, dueAt, leaseUntil) {
      const row = await db.selectFrom('sandboxes').select('termination_json').where('id', '=', sandboxId).executeTakeFirst();
      if (!row?.termination_json) return false;
      const begun = JSON.stringify({ ...(JSON.parse(row.termination_json) as object), begun: true });
      const r = await db
        .updateTable('sandboxes')
        .set({ terminate_at: leaseUntil, termination_json: begun })
        .where('id', '=', sandboxId)
        .where('terminate_at', '=', dueAt)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async setTimeout(tenantId, sandboxId, timeoutAt) {
      if (timeoutAt !== null && !Number.isInteger(timeoutAt))
        throw new InvalidArgumentError('timeoutAt must be epoch milliseconds');
      const current = await load(db, sandboxId, tenantId);
      if (isEndedSandbox(current.state))
        throw new ConflictError(`sandbox ${sandboxId} has ended (${current.state})`);
      await db
        .updateTable('sandboxes')
        .set({ timeout_at: timeoutAt })
        .where('id', '=', sandboxId)
        .where('tenant_id', '=', tenantId)
        .execute();
      return load(db, sandboxId, tenantId);
    },

    setEgress: (tenantId, sandboxId, egress) =>
      // Read-modify-write of the spec under the row lock: no other change to it is lost.
      inTransaction(ctx, async (trx) => {
        await lockRows(ctx, trx.selectFrom('sandboxes').select('id').where('id', '=', sandboxId)).executeTakeFirst();
        const current = await load(trx, sandboxId, tenantId);
        await trx
          .updateTable('sandboxes')
          .set({ spec_json: JSON.stringify({ ...current.spec, egress }) })
          .where('id', '=', sandboxId)
          .execute();
        return load(trx, sandboxId, tenantId);
      }),
  };
}
