/**
 * Migration 0017, node scheduling: whether a node takes new work — `active`, `cordoned` (nothing
 * new is placed on it; what runs there goes on), or `draining` (cordoned, and deployments move
 * their replicas off it). Set by an operator (`tartarus nodes cordon|drain|uncordon`), kept across
 * the node's reconnections.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const nodeScheduling: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('nodes').addColumn('scheduling', 'text', (c) => c.notNull().defaultTo('active')).execute();
  },
};
