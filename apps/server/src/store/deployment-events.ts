/**
 * A deployment's events in the store. The controller writes them (`deployment.*` types, the
 * deployment's id as object) through the outbox like every other event; two kinds are told by
 * comparing what it sees with a mark kept in the store — a run's start and end (`told` on its
 * `deployment_runs` row) and which `depends` conditions hold (`dependencies_told_json` on the
 * deployment) — and the mark moves in the transaction that writes the event, only from the value
 * the controller read. So a change is told once, whichever server replica leads when it happens,
 * and one that happened while no server ran is told when the next one looks.
 */
import { inTransaction, type StoreContext } from './context.js';
import { emitEvent, type NewEvent } from './events.js';

/** What a run's events told so far. */
export type RunTold = null | 'started' | 'ended';

/** A run of a deployment whose end was not told yet. */
export interface UntoldRun {
  runId: string;
  service: string;
  kind: string;
  revision: number;
  state: string;
  exitCode: number | null;
  startedAt: number | null;
  endedAt: number | null;
  nodeId: string | null;
  told: RunTold;
}

/** Per service, per dependency: whether its condition holds. */
export type DependencyMarks = Record<string, Record<string, boolean>>;

/** The deployment-event part of the store. */
export interface DeploymentEventStore {
  /** Writes one event in its own transaction (for changes the store did not make itself). */
  emit(event: NewEvent): Promise<void>;
  /** Runs of the deployment whose end was not told yet (live ones, and ended ones not looked at since). */
  untoldRuns(deploymentId: string): Promise<UntoldRun[]>;
  /** Moves run `runId`'s mark from `from` to `to` and writes `events`; false (nothing written) when the mark was no longer `from`. */
  tellRun(runId: string, from: RunTold, to: Exclude<RunTold, null>, events: NewEvent[]): Promise<boolean>;
  /** The conditions last told as met (`{}` before any). */
  dependencyMarks(deploymentId: string): Promise<DependencyMarks>;
  /** Replaces the marks read as `from` with `to` and writes `events`; false when they changed meanwhile. */
  tellDependencies(deploymentId: string, from: DependencyMarks, to: DependencyMarks, events: NewEvent[]): Promise<boolean>;
}

/** Builds the deployment-event part of the store. */
export function createDeploymentEventStore(ctx: StoreContext): DeploymentEventStore {
  const { db } = ctx;
  return {
    emit: (event) => inTransaction(ctx, (trx) => emitEvent(ctx, trx, event)),
    async untoldRuns(deploymentId) {
      const rows = await db
        .selectFrom('deployment_runs as d')
        .innerJoin('runs as r', 'r.id', 'd.run_id')
        .select(['d.run_id', 'd.service', 'd.kind', 'd.revision', 'd.told', 'r.state', 'r.exit_code', 'r.started_at', 'r.ended_at', 'r.lease_node_id'])
        .where('d.deployment_id', '=', deploymentId)
        .where((eb) => eb.or([eb('d.told', 'is', null), eb('d.told', '=', 'started')]))
        .orderBy('d.created_at')
        .limit(500)
        .execute();
      return rows.map((r) => ({
        runId: r.run_id,
        service: r.service,
        kind: r.kind,
        revision: Number(r.revision),
        state: r.state,
        exitCode: r.exit_code,
        startedAt: r.started_at === null ? null : Number(r.started_at),
        endedAt: r.ended_at === null ? null : Number(r.ended_at),
        nodeId: r.lease_node_id,
        told: r.told as RunTold,
      }));
    },
    tellRun: (runId, from, to, events) =>
      inTransaction(ctx, async (trx) => {
        const moved = await trx
          .updateTable('deployment_runs')
          .set({ told: to })
          .where('run_id', '=', runId)
          .where((eb) => (from === null ? eb('told', 'is', null) : eb('told', '=', from)))
          .executeTakeFirst();
        if (moved.numUpdatedRows === 0n) return false;
        for (const e of events) await emitEvent(ctx, trx, e);
        return true;
      }),
    async dependencyMarks(deploymentId) {
      const row = await db.selectFrom('deployments').select('dependencies_told_json').where('id', '=', deploymentId).executeTakeFirst();
      return row?.dependencies_told_json ? (JSON.parse(row.dependencies_told_json) as DependencyMarks) : {};
    },
    tellDependencies: (deploymentId, from, to, events) =>
      inTransaction(ctx, async (trx) => {
        const before = Object.keys(from).length === 0 ? null : JSON.stringify(from);
        const moved = await trx
          .updateTable('deployments')
          .set({ dependencies_told_json: JSON.stringify(to) })
          .where('id', '=', deploymentId)
          .where((eb) => (before === null ? eb.or([eb('dependencies_told_json', 'is', null), eb('dependencies_told_json', '=', '{}')]) : eb('dependencies_told_json', '=', before)))
          .executeTakeFirst();
        if (moved.numUpdatedRows === 0n) return false;
        for (const e of events) await emitEvent(ctx, trx, e);
        return true;
      }),
  };
}
