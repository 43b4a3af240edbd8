/**
 * The API's per-key rate limit shared by every server replica: the same token bucket as
 * http/rate-limit.ts, kept in Redis (one hash per key, updated by one Lua script, so a key gets
 * the same allowance whichever replica it reaches). While Redis is down each replica falls back
 * to its own buckets: requests keep being served, limited per replica, rather than refused.
 */
import type { ServerConfig } from '../config.js';
import { RateLimitedError, RateLimiter, type RequestLimiter } from '../http/rate-limit.js';
import type { RedisLink } from './redis.js';

/** Refill, take one token if there is one; returns [taken, tokens left × 1000]. Redis's clock: replicas need not agree on time. */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return { taken, math.floor(tokens * 1000) }
`;

/** Token buckets in Redis, with this replica's own as the fallback. */
export class SharedRateLimiter implements RequestLimiter {
  private readonly local: RateLimiter;

  constructor(
    private readonly redis: RedisLink,
    private readonly config: Pick<ServerConfig, 'rateLimitPerSec' | 'rateLimitBurst'>,
  ) {
    this.local = new RateLimiter(config.rateLimitPerSec, config.rateLimitBurst);
  }

  async take(key: string): Promise<void> {
    if (!this.redis.ready) return this.local.take(key);
    let reply: [number, number];
    try {
      reply = (await this.redis.commands.eval(TAKE, 1, `tartarus:rate:${key}`, this.config.rateLimitPerSec, this.config.rateLimitBurst)) as [number, number];
    } catch {
      return this.local.take(key);
    }
    const [taken, milliTokens] = reply;
    if (taken !== 1) throw new RateLimitedError(((1 - milliTokens / 1000) / this.config.rateLimitPerSec) * 1000);
  }
}
