/**
 * Distributed mode's link between server replicas (`--redis`): the event bus fanned out
 * (bus-relay.ts), requests for nodes held by another replica relayed (node-relay.ts), and the
 * API's rate limit shared (rate-limit.ts). PostgreSQL stays the source of truth: Redis carries
 * only wake-ups, relayed calls and counters, so losing it slows or refuses (503) what needs it
 * and loses nothing accepted.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { relayBus } from './bus-relay.js';
import { NodeRelay } from './node-relay.js';
import { RedisLink } from './redis.js';
import { SharedRateLimiter } from './rate-limit.js';

export { RedisDownError, RedisLink, redisOptions } from './redis.js';

/** This replica's part of the cluster. */
export interface ClusterLink {
  readonly replicaId: string;
  /** Leaves: entries removed, subscriptions and connections closed. */
  close(): Promise<void>;
}

/** Opens the Redis link (in the background: a Redis that is down is waited for, not fatal) and the shared rate limiter. */
export function openRedis(url: string, ctx: Pick<ServerContext, 'log' | 'config'>): { redis: RedisLink; limiter: SharedRateLimiter } {
  const redis = new RedisLink(url, ctx.log);
  return { redis, limiter: new SharedRateLimiter(redis, ctx.config) };
}

/** Joins this replica's bus and agent hub to the other replicas' through `redis`. */
export function joinCluster(ctx: ServerContext, hub: AgentHub, redis: RedisLink): ClusterLink {
  const replicaId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const relay = new NodeRelay(ctx, redis, hub, replicaId);
  hub.useRemote(relay);
  relay.start();
  const leaveBus = relayBus(ctx.bus, redis, replicaId);
  ctx.log.info({ replicaId }, 'joined the other server replicas through Redis');
  return {
    replicaId,
    async close() {
      leaveBus();
      hub.useRemote(undefined);
      await relay.stop();
      await redis.close();
    },
  };
}
