/**
 * Per-key rate limit: an in-process token bucket (enough for embedded mode; distributed mode keeps
 * the buckets in Redis behind the same `take`: cluster/rate-limit.ts).
 */
import { TartarusError } from '@tartarus/core';

/** Thrown when a key sends faster than its bucket refills. */
export class RateLimitedError extends TartarusError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(
      'rate_limited',
      `too many requests: slow down and retry after ${Math.ceil(retryAfterMs / 1000)} s`,
      {
        retryable: true,
      },
    );
    this.retryAfterMs = retryAfterMs;
  }
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Takes one request's token for a key, or throws `RateLimitedError`. */
export interface RequestLimiter {
  take(key: string): void | Promise<void>;
}

/** Token buckets keyed by API key id. */
export class RateLimiter implements RequestLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** @param ratePerSec refill rate; @param burst bucket size. */
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `key` or throws `RateLimitedError` saying when to retry. */
  take(key: string, nowMs = Date.now()): void {
    const b = this.buckets.get(key) ?? { tokens: this.burst, atMs: nowMs };
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.atMs) / 1000) * this.ratePerSec);
    b.atMs = nowMs;
    this.buckets.set(key, b);
    if (b.tokens < 1) throw new RateLimitedError(((1 - b.tokens) / this.ratePerSec) * 1000);
    b.tokens -= 1;
    // Keep the map bounded: idle full buckets carry no information.
    if (this.buckets.size > 10_000) {
      for (const [k, v] of this.buckets) if (v.tokens >= this.burst - 1) this.buckets.delete(k);
    }
  }
}
