/**
 * Node tokens: agent secrets bound to one node id. Only the SHA-256 of a secret is stored; the
 * secret is shown once, at creation. A revoked token keeps its row (with `revoked_at`).
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, NotFoundError } from '@tartarus/core';
import type { Selectable } from 'kysely';
import type { StoreContext } from './context.js';
import type { NodeTokensTable } from './schema.js';
import type { NodeTokenStore } from './store.js';
import type { NodeToken } from './types.js';
import { newId, sha256 } from './util.js';

/** What every node token secret starts with, so a leaked one is recognisable. */
export const NODE_TOKEN_PREFIX = 'tt_node_';
/** Longest node id (as the agent protocol's `hello` allows). */
const NODE_ID_MAX = 128;

function toNodeToken(r: Selectable<NodeTokensTable>): NodeToken {
  return { id: r.id, nodeId: r.node_id, createdAt: r.created_at, revokedAt: r.revoked_at };
}

function checkNodeId(nodeId: string): void {
  if (nodeId.length < 1 || nodeId.length > NODE_ID_MAX)
    throw new InvalidArgumentError(
      `nodeId must have 1 to ${NODE_ID_MAX} characters, got ${nodeId.length}`,
    );
}

/** Builds the node-token part of the store. */
export function createNodeTokenStore(ctx: StoreContext): NodeTokenStore {
  const { db } = ctx;
  const get = async (id: string): Promise<NodeToken> => {
    const row = await db
      .selectFrom('node_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined)
      throw new NotFoundError(`node token ${id} not found`, { context: { tokenId: id } });
    return toNodeToken(row);
  };
  return {
    async create(nodeId) {
      checkNodeId(nodeId);
      const secret = `${NODE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const row = {
        id: newId('ntk'),
        node_id: nodeId,
        secret_hash: sha256(secret),
        created_at: ctx.now(),
        revoked_at: null,
      };
      await db.insertInto('node_tokens').values(row).execute();
      return { token: toNodeToken(row), secret };
    },

    async verify(secret) {
      const row = await db
        .selectFrom('node_tokens')
        .select(['id', 'node_id'])
        .where('secret_hash', '=', sha256(secret))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return row === undefined ? null : { id: row.id, nodeId: row.node_id };
    },

    get,

    async list() {
      const rows = await db
        .selectFrom('node_tokens')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toNodeToken);
    },

    async revoke(id) {
      await db
        .updateTable('node_tokens')
        .set({ revoked_at: ctx.now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      return get(id);
    },

    async hasActive(nodeId) {
      const row = await db
        .selectFrom('node_tokens')
        .select('id')
        .where('node_id', '=', nodeId)
        .where('revoked_at', 'is', null)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
