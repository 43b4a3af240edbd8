/**
 * Who an agent is. The bearer token of `/v1/agent/connect` resolves to an `AgentAuth`: a node
 * token from the store or a bound config token (`NODE_ID=TOKEN`) names the one node the agent may
 * speak for; a shared config token (`TOKEN`) names none. At `hello` the claimed node id is checked
 * against it (`helloRefusal`): a bound token speaks only for its node, and a shared token never
 * for a node that has a token of its own — so a provisioned node cannot be taken over.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { NotFoundError, UnauthenticatedError } from '@tartarus/core';
import type { ConfigAgentToken } from '../config.js';
import type { ServerContext } from '../context.js';
import type { Store } from '../store/index.js';

/** What an agent's token proves. */
export interface AgentAuth {
  /** The node the token is bound to; undefined for a shared config token. */
  nodeId?: string;
  /** The store token's id (tokens issued through `/v1/nodes/tokens`), so revoking it disconnects. */
  tokenId?: string;
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * Resolves bearer headers of agent sockets: config tokens first (compared in constant time, over
 * fixed-length digests), then the store's node tokens. 401 when neither knows the token.
 */
export function agentAuthenticator(
  tokens: readonly ConfigAgentToken[],
  store: Store,
): (header: string | undefined) => Promise<AgentAuth> {
  const known = tokens.map((t) => ({ nodeId: t.nodeId, digest: digest(t.secret) }));
  return async (header) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (token === undefined)
      throw new UnauthenticatedError('agent token missing: send "Authorization: Bearer <token>"');
    const presented = digest(token);
    // Every entry is compared, so the time taken does not say which one matched.
    let match: (typeof known)[number] | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, presented)) match ??= k;
    if (match !== undefined) return match.nodeId === null ? {} : { nodeId: match.nodeId };
    const stored = await store.nodeTokens.verify(token);
    if (stored !== null) return { nodeId: stored.nodeId, tokenId: stored.id };
    throw new UnauthenticatedError('agent token not valid (unknown or revoked)');
  };
}

/** Why `auth` may not say `hello` as `nodeId`, or null when it may. */
export async function helloRefusal(
  ctx: ServerContext,
  auth: AgentAuth,
  nodeId: string,
): Promise<string | null> {
  if (auth.nodeId !== undefined && auth.nodeId !== nodeId)
    return `this agent token is bound to node ${auth.nodeId}; it cannot connect as node ${nodeId}`;
  if (auth.tokenId !== undefined) {
    // Revoked between the upgrade and this hello.
    const token = await ctx.store.nodeTokens.get(auth.tokenId).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (token === null || token.revokedAt !== null) return 'this agent token was revoked';
  }
  if (auth.nodeId === undefined) {
    const bound = ctx.config.agentTokens.some((t) => t.nodeId === nodeId);
    if (bound || (await ctx.store.nodeTokens.hasActive(nodeId)))
      return `node ${nodeId} has its own agent token: connect with it (a shared token cannot speak for that node)`;
  }
  return null;
}
