/** Median of a non-empty list of numbers. */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Rounds to `digits` decimals, for printing figures. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Thrown by `timeMs` once a stop was requested, so each benchmark's `finally` cleans up. */
export class BenchInterrupted extends Error {}

let stopRequested: string | undefined;

/** Asks every benchmark to stop before its next timed call (on SIGINT/SIGTERM). */
export function requestStop(reason: string): void {
  stopRequested = reason;
}

/** Throws `BenchInterrupted` once a stop was requested; loops that do not go through `timeMs` call it. */
export function checkStop(): void {
  if (stopRequested) throw new BenchInterrupted(stopRequested);
}

/**
 * Times `fn` once, in milliseconds. Every timed call of every benchmark goes through here, so it
 * is where an interrupted benchmark stops: it throws `BenchInterrupted` instead of starting `fn`.
 */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  checkStop();
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** mulberry32 (core's): a small, fast, seeded PRNG, so that two runs make the same choices. */
export { seededRandom } from '@tartarus/core';
