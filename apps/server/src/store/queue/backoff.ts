/** Retry delay after a failed attempt. */
import type { BackoffPolicy } from '../types.js';

/**
 * Delay before attempt `failedAttempt + 1`, ms: min(maxMs, initialMs · 2^(failedAttempt-1)).
 * No jitter: runs fail at scattered times already, and a deterministic delay is what the run
 * record promises (`nextEligibleAt`) and what tests can check.
 */
export function backoffDelayMs(failedAttempt: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, failedAttempt - 1);
  // Cap the exponent so 2^n stays finite; any n past 52 is far beyond every sane maxMs anyway.
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(exponent, 52));
}
