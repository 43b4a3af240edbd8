/**
 * Deployments in the store: the spec as written and its compiled plan (desired state), the
 * desired replicas per service, the controller's lease, and the runs a deployment started.
 */
import { ConflictError, newId, NotFoundError, type DeploymentPlan } from '@tartarus/core';
import { sql } from 'kysely';
import { inTransaction, lockRows, type StoreContext } from './context.js';

/** What a replica's health checks say. */
export type ReplicaHealthState = 'unknown' | 'healthy' | 'unhealthy' | 'isolated' | 'draining';

/** What a deployment is doing. */
export type DeploymentState = 'active' | 'stopping' | 'stopped';

/** A deployment as the store keeps it. */
export interface Deployment {
  id: string;
  tenantId: string;
  name: string;
  specText: string;
  plan: DeploymentPlan;
  revision: number;
  state: DeploymentState;
  /** Desired replicas per service (services and manual/adaptive scaling). */
  replicas: Record<string, number>;
  createdAt: number;
  updatedAt: number;
}

/** A run a deployment started, with the run's state. */
export interface DeploymentRun {
  runId: string;
  service: string;
  kind: 'replica' | 'job' | 'cron';
  revision: number;
  /** A cron run's tick (epoch ms); null otherwise. */
  tick: number | null;
  /** What its health checks say: `unknown`, `healthy`, `unhealthy` (it was stopped for it), `isolated`; `draining`: out of the proxy, to be stopped. */
  health: ReplicaHealthState;
  createdAt: number;
  state: string;
  /** The node its current attempt runs on (null while queued). */
  nodeId: string | null;
  /** Its current attempt's epoch (the sandbox is `attemptSandboxId(runId, epoch)`). */
  epoch: number;
  exitCode: number | null;
  endedAt: number | null;
}

/** The deployment part of the store. */
export interface DeploymentStore {
  /** Creates the tenant's deployment `plan.name`, or replaces its spec (revision + 1, state active). */
  apply(tenantId: string, specText: string, plan: DeploymentPlan, replicas: Record<string, number>): Promise<{ deployment: Deployment; created: boolean }>;
  /** NotFoundError when the tenant has none of that name. */
  get(tenantId: string, name: string): Promise<Deployment>;
  list(tenantId: string): Promise<Deployment[]>;
  /** Deployments whose controller should run (active or stopping). */
  listLive(): Promise<Deployment[]>;
  /** The active deployments of this name (any case), of every tenant (the proxy tells them apart by tenant). */
  findActive(name: string): Promise<Deployment[]>;
  /**
   * Makes revision `to`'s spec and plan current again as a new revision (a rollback), and counts
   * the live runs of `to` as the new revision's, so the replicas still serving are kept. Returns
   * the deployment; ConflictError when the deployment changed meanwhile (`from` is no longer current).
   */
  rollback(id: string, from: number, to: number): Promise<Deployment>;
  setState(id: string, state: DeploymentState): Promise<void>;
  setReplicas(tenantId: string, name: string, service: string, replicas: number): Promise<Deployment>;
  /** Deletes a stopped deployment (its runs stay, as history of the tenant). */
  remove(id: string): Promise<void>;
  /** Takes the controller lease of `id` for `owner`; false while another owner holds it. */
  claim(id: string, owner: string, leaseMs: number): Promise<boolean>;
  recordRun(r: { runId: string; deploymentId: string; service: string; kind: DeploymentRun['kind']; revision: number; tick: number | null }): Promise<void>;
  setHealth(runId: string, health: ReplicaHealthState): Promise<void>;
  /** Runs of a deployment (of one service), newest first. */
  runs(deploymentId: string, options?: { service?: string; limit?: number; live?: boolean }): Promise<DeploymentRun[]>;
}

type Row = { id: string; tenant_id: string; name: string; spec_text: string; plan_json: string; revision: number; state: string; replicas_json: string; created_at: number; updated_at: number };

function toDeployment(r: Row): Deployment {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    specText: r.spec_text,
    plan: JSON.parse(r.plan_json) as DeploymentPlan,
    revision: Number(r.revision),
    state: r.state as DeploymentState,
    replicas: JSON.parse(r.replicas_json) as Record<string, number>,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

const LIVE_RUN_STATES = ['queued', 'leased', 'running'];

/** A service's desired replicas under a new spec: `fresh` its initial count, `kept` the count it had. */
function keptReplicas(scale: DeploymentPlan['services'][number]['scale'] | undefined, kept: number | undefined, fresh: number): number {
  if (kept === undefined || scale === undefined || scale.mode === 'fixed') return fresh;
  return scale.mode === 'adaptive' ? Math.min(scale.max, Math.max(scale.min, kept)) : kept;
}

/** Builds the deployment part of the store. */
export function createDeploymentStore(ctx: StoreContext): DeploymentStore {
  const { db } = ctx;
  const byName = (tenantId: string, name: string) => db.selectFrom('deployments').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name);
  const store: DeploymentStore = {
    apply: (tenantId, specText, plan, replicas) =>
      inTransaction(ctx, async (trx) => {
        const now = ctx.now();
        const prior = await lockRows(ctx, trx.selectFrom('deployments').selectAll().where('tenant_id', '=', tenantId).where('name', '=', plan.name)).executeTakeFirst();
        if (prior === undefined) {
          const row = { id: newId('dep'), tenant_id: tenantId, name: plan.name, spec_text: specText, plan_json: JSON.stringify(plan), revision: 1, state: 'active', replicas_json: JSON.stringify(replicas), lease_owner: null, lease_until: null, created_at: now, updated_at: now };
          await trx.insertInto('deployments').values(row).execute();
          await trx.insertInto('deployment_revisions').values({ deployment_id: row.id, revision: 1, spec_text: specText, plan_json: row.plan_json, created_at: now }).execute();
          return { deployment: toDeployment(row), created: true };
        }
        // Replicas set by hand (manual scale) survive a new spec, an adaptive service keeps its count
        // (within its new bounds: a stopped one starts again); services gone lose theirs.
        const kept = JSON.parse(prior.replicas_json) as Record<string, number>;
        const merged = Object.fromEntries(Object.entries(replicas).map(([s, n]) => [s, keptReplicas(plan.services.find((x) => x.name === s)?.scale, kept[s], n)]));
        await trx
          .updateTable('deployments')
          .set({ spec_text: specText, plan_json: JSON.stringify(plan), revision: Number(prior.revision) + 1, state: 'active', replicas_json: JSON.stringify(merged), updated_at: now })
          .where('id', '=', prior.id)
          .execute();
        const row = await trx.selectFrom('deployments').selectAll().where('id', '=', prior.id).executeTakeFirstOrThrow();
        await trx.insertInto('deployment_revisions').values({ deployment_id: row.id, revision: Number(row.revision), spec_text: specText, plan_json: row.plan_json, created_at: now }).execute();
        return { deployment: toDeployment(row), created: false };
      }),
    async get(tenantId, name) {
      const row = await byName(tenantId, name).executeTakeFirst();
      if (row === undefined) throw new NotFoundError(`deployment ${name} not found: tartarus deployments ls lists them`, { context: { deployment: name } });
      return toDeployment(row);
    },
    async list(tenantId) {
      return (await db.selectFrom('deployments').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute()).map(toDeployment);
    },
    async listLive() {
      return (await db.selectFrom('deployments').selectAll().where('state', 'in', ['active', 'stopping']).execute()).map(toDeployment);
    },
    async findActive(name) {
      const rows = await db.selectFrom('deployments').selectAll().where(sql<string>`lower(name)`, '=', name.toLowerCase()).where('state', '=', 'active').execute();
      return rows.map(toDeployment).sort((a, b) => Number(b.name === name) - Number(a.name === name));
    },
    rollback: (id, from, to) =>
      inTransaction(ctx, async (trx) => {
        const now = ctx.now();
        const current = await lockRows(ctx, trx.selectFrom('deployments').selectAll().where('id', '=', id)).executeTakeFirst();
        if (current === undefined || Number(current.revision) !== from) throw new ConflictError(`deployment ${id} is no longer at revision ${from}: not rolled back`);
        const target = await trx.selectFrom('deployment_revisions').selectAll().where('deployment_id', '=', id).where('revision', '=', to).executeTakeFirst();
        if (target === undefined) throw new NotFoundError(`deployment ${current.name} has no revision ${to} to roll back to`);
        const revision = from + 1;
        await trx.updateTable('deployments').set({ spec_text: target.spec_text, plan_json: target.plan_json, revision, updated_at: now }).where('id', '=', id).execute();
        await trx.insertInto('deployment_revisions').values({ deployment_id: id, revision, spec_text: target.spec_text, plan_json: target.plan_json, created_at: now }).execute();
        const live = trx.selectFrom('runs').select('id').where('state', 'in', LIVE_RUN_STATES);
        await trx.updateTable('deployment_runs').set({ revision }).where('deployment_id', '=', id).where('revision', '=', to).where('run_id', 'in', live).execute();
        return toDeployment(await trx.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
      }),
    async setState(id, state) {
      await db.updateTable('deployments').set({ state, updated_at: ctx.now() }).where('id', '=', id).execute();
    },
    async setReplicas(tenantId, name, service, replicas) {
      const d = await store.get(tenantId, name);
      const svc = d.plan.services.find((s) => s.name === service);
      if (svc === undefined) throw new NotFoundError(`deployment ${name} has no service ${service}`);
      if (svc.kind !== 'service') throw new ConflictError(`${service} is a ${svc.kind}: only services have replicas (trigger a job with tartarus job trigger)`);
      await db.updateTable('deployments').set({ replicas_json: JSON.stringify({ ...d.replicas, [service]: replicas }), updated_at: ctx.now() }).where('id', '=', d.id).execute();
      return store.get(tenantId, name);
    },
    async remove(id) {
      await db.deleteFrom('deployment_runs').where('deployment_id', '=', id).execute();
      await db.deleteFrom('deployment_revisions').where('deployment_id', '=', id).execute();
      await db.deleteFrom('deployments').where('id', '=', id).execute();
    },
    async claim(id, owner, leaseMs) {
      const now = ctx.now();
      const r = await db
        .updateTable('deployments')
        .set({ lease_owner: owner, lease_until: now + leaseMs })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    async recordRun(r) {
      await db
        .insertInto('deployment_runs')
        .values({ run_id: r.runId, deployment_id: r.deploymentId, service: r.service, kind: r.kind, revision: r.revision, tick: r.tick, created_at: ctx.now() })
        .onConflict((oc) => oc.column('run_id').doNothing())
        .execute();
    },
    async setHealth(runId, health) {
      await db.updateTable('deployment_runs').set({ health }).where('run_id', '=', runId).execute();
    },
    async runs(deploymentId, o = {}) {
      const rows = await db
        .selectFrom('deployment_runs as d')
        .innerJoin('runs as r', 'r.id', 'd.run_id')
        .select(['d.run_id', 'd.service', 'd.kind', 'd.revision', 'd.tick', 'd.health', 'd.created_at', 'r.state', 'r.exit_code', 'r.ended_at', 'r.lease_node_id', 'r.epoch'])
        .where('d.deployment_id', '=', deploymentId)
        .$if(o.service !== undefined, (q) => q.where('d.service', '=', o.service ?? ''))
        .$if(o.live === true, (q) => q.where('r.state', 'in', LIVE_RUN_STATES))
        .orderBy('d.created_at', 'desc')
        .limit(o.limit ?? 1000)
        .execute();
      return rows.map((r) => ({
        runId: r.run_id,
        service: r.service,
        kind: r.kind as DeploymentRun['kind'],
        revision: Number(r.revision),
        tick: r.tick === null ? null : Number(r.tick),
        health: r.health as ReplicaHealthState,
        createdAt: Number(r.created_at),
        state: r.state,
        nodeId: r.lease_node_id,
        epoch: Number(r.epoch),
        exitCode: r.exit_code,
        endedAt: r.ended_at === null ? null : Number(r.ended_at),
      }));
    },
  };
  return store;
}
