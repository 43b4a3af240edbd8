/** Node registry and liveness. Marking a node down (and what happens to its work) is `queue.handleNodeDown`. */
import { ConflictError, InvalidArgumentError, NotFoundError } from '@tartarus/core';
import { emitEvent, PLATFORM_TENANT, type NewEvent } from './events.js';
import { inTransaction, type StoreContext } from './context.js';
import { isUniqueViolation } from './connect.js';
import { toNode } from './rows.js';
import type { NodeStore, RegisterNodeOptions } from './store.js';
import type { NodeResources, NodeScheduling } from './types.js';
import { newId } from './util.js';

function checkResources(what: string, r: NodeResources): void {
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new InvalidArgumentError(`${what}.${k} must be a non-negative number`);
  }
}

function registrationColumns(options: RegisterNodeOptions, now: number) {
  return {
    name: options.name,
    runtimes_json: JSON.stringify(options.runtimes),
    capabilities_json: JSON.stringify(options.capabilities ?? {}),
    labels_json: JSON.stringify(options.labels ?? {}),
    capacity_cpu: options.capacity.cpu,
    capacity_memory_mib: options.capacity.memoryMiB,
    capacity_slots: options.capacity.slots,
    capacity_disk_mib: options.capacity.diskMiB ?? 0,
    status: 'up',
    last_heartbeat_at: now,
  };
}

/** Builds the node part of the store. */
export function createNodeStore(ctx: StoreContext): NodeStore {
  const { db } = ctx;
  const get = async (nodeId: string) => {
    const row = await db
      .selectFrom('nodes')
      .selectAll()
      .where('id', '=', nodeId)
      .executeTakeFirst();
    if (row === undefined)
      throw new NotFoundError(`node ${nodeId} not found`, { context: { nodeId } });
    return toNode(row);
  };
  return {
    async register(options) {
      checkResources('capacity', options.capacity);
      const now = ctx.now();
      const cols = registrationColumns(options, now);
      try {
        const id = await inTransaction(ctx, async (trx) => {
          const existing = await trx
            .selectFrom('nodes')
            .select('id')
            .$if(options.id !== undefined, (q) => q.where('id', '=', options.id ?? ''))
            .$if(options.id === undefined, (q) => q.where('name', '=', options.name))
            .executeTakeFirst();
          if (existing !== undefined) {
            await trx.updateTable('nodes').set(cols).where('id', '=', existing.id).execute();
            await emitEvent(ctx, trx, nodeUp(existing.id, options.name));
            return existing.id;
          }
          const fresh = options.id ?? newId('node');
          await trx
            .insertInto('nodes')
            .values({
              id: fresh,
              ...cols,
              used_cpu: 0,
              used_memory_mib: 0,
              used_slots: 0,
              used_disk_mib: 0,
              created_at: now,
            })
            .execute();
          await emitEvent(ctx, trx, nodeUp(fresh, options.name));
          return fresh;
        });
        return await get(id);
      } catch (error) {
        if (!isUniqueViolation(error, ctx.backend)) throw error;
        throw new ConflictError(`another node is registered as ${options.name}: give this agent another name (TARTARUS_NODE_NAME)`, { cause: error });
      }
    },

    async heartbeat(nodeId, used) {
      if (used !== undefined) checkResources('used', used);
      const result = await db
        .updateTable('nodes')
        .set({
          status: 'up',
          last_heartbeat_at: ctx.now(),
          ...(used !== undefined && {
            used_cpu: used.cpu,
            used_memory_mib: used.memoryMiB,
            used_slots: used.slots,
            used_disk_mib: used.diskMiB ?? 0,
          }),
        })
        .where('id', '=', nodeId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    get,

    async list(options) {
      const rows = await db
        .selectFrom('nodes')
        .selectAll()
        .$if(options?.status !== undefined, (q) => q.where('status', '=', options?.status ?? 'up'))
        .orderBy('name')
        .execute();
      return rows.map(toNode);
    },

    async setScheduling(nodeId, scheduling) {
      const r = await db.updateTable('nodes').set({ scheduling }).where('id', '=', nodeId).executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw new NotFoundError(`node ${nodeId} not found: tartarus nodes ls lists them`, { context: { nodeId } });
      return get(nodeId);
    },

    async unschedulable() {
      const rows = await db.selectFrom('nodes').select(['id', 'scheduling']).where('scheduling', '!=', 'active').execute();
      return new Map(rows.map((r) => [r.id, r.scheduling as NodeScheduling]));
    },

    async listStale(deadlineMs) {
      const rows = await db
        .selectFrom('nodes')
        .selectAll()
        .where('status', '=', 'up')
        .where('last_heartbeat_at', '<', ctx.now() - deadlineMs)
        .orderBy('last_heartbeat_at')
        .execute();
      return rows.map(toNode);
    },
  };
}

/** A node's (re)connection, an event of the platform. */
function nodeUp(nodeId: string, name: string): NewEvent {
  return { tenantId: PLATFORM_TENANT, type: 'node.up', objectId: nodeId, data: { status: 'up', name } };
}
