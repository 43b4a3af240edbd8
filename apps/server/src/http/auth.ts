/**
 * Authentication and authorization of `/v1` calls: `Authorization: Bearer <key>` verified against
 * the store (keys are stored hashed), then the route's required role. A WebSocket upgrade without
 * that header may offer the key as the subprotocol `tartarus.bearer.<key>` instead (a browser's
 * WebSocket cannot send headers; `@tartarus/core` websocket-auth.ts). A tenant only ever sees its
 * own objects — the store scopes every read by `tenantId` and answers 404 for anyone else's.
 */
import {
  PermissionDeniedError,
  UnauthenticatedError,
  bearerFromWsProtocols,
  type Role,
} from '@tartarus/core';
import type { FastifyRequest } from 'fastify';
import type { AgentAuth } from '../agents/agent-auth.js';
import type { Store } from '../store/index.js';

/** The tenant that exists from the first start; its admins also manage tenants. */
export const BOOTSTRAP_TENANT_ID = 'default';

/** Who is calling. */
export interface Principal {
  tenantId: string;
  keyId: string;
  role: Role;
}

/** What a route requires: a role, `system` (admin of the bootstrap tenant), or `public` (no key). */
export type Access = Role | 'system' | 'public' | 'agent';

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2 };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The agent's token, resolved by the auth hook (routes with access `agent`). */
    agentAuth?: AgentAuth;
    /** Id of the object a mutating call created, for its audit entry. */
    auditTarget?: string;
  }
  interface FastifyContextConfig {
    /** Required access; routes without it need `admin` (fail closed). */
    access?: Access;
    /** Audit action written for mutating calls, e.g. `run.submit`. */
    audit?: string;
    /** The call takes a raw `application/octet-stream` body (file uploads); others refuse one unread. */
    bytes?: boolean;
  }
}

/**
 * The request's `Authorization` header; for a WebSocket upgrade without one, the key its
 * `Sec-WebSocket-Protocol` offers, as that header would carry it. Plain HTTP never reads the
 * subprotocol (a page could not set it there, and keys stay out of ordinary requests' headers).
 */
export function authorizationOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined || req.ws !== true) return header;
  const key = bearerFromWsProtocols(req.headers['sec-websocket-protocol']);
  return key === undefined ? undefined : `Bearer ${key}`;
}

/** Reads and verifies the bearer key. */
export async function authenticate(store: Store, header: string | undefined): Promise<Principal> {
  if (header === undefined || header === '') {
    throw new UnauthenticatedError(
      'missing API key: send the header "Authorization: Bearer <key>"',
    );
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m?.[1])
    throw new UnauthenticatedError(
      'malformed Authorization header: use "Authorization: Bearer <key>"',
    );
  const key = await store.apiKeys.verify(m[1]);
  if (!key)
    throw new UnauthenticatedError('API key not valid (unknown or revoked): use a current key');
  return { tenantId: key.tenantId, keyId: key.id, role: key.role };
}

/** Throws unless the principal has the access the route needs. */
export function authorize(p: Principal, access: Exclude<Access, 'public' | 'agent'>): void {
  if (access === 'system') {
    if (p.role === 'admin' && p.tenantId === BOOTSTRAP_TENANT_ID) return;
    throw new PermissionDeniedError(
      'this call needs an admin key of the bootstrap tenant "default"',
    );
  }
  if (RANK[p.role] < RANK[access]) {
    throw new PermissionDeniedError(
      `this call needs role ${access} or higher; the key has role ${p.role}`,
    );
  }
}

/** The caller, set by the auth hook; throws if the route ran without one (a wiring bug). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal)
    throw new UnauthenticatedError(
      'missing API key: send the header "Authorization: Bearer <key>"',
    );
  return req.principal;
}
