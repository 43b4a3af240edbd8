/**
 * Data that is loaded, then loaded again every `intervalMs` (live state) until the component
 * goes away or its inputs change; one call at a time (the next is scheduled when one ends).
 */
import { useCallback, useEffect, useState } from 'react';

/** Poll interval of the live pages (sandboxes, runs, nodes), ms. */
export const LIVE_POLL_MS = 2000;

/** What `usePoll` gives: the last data, the last error (cleared by the next success), a reload. */
export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  /** Loads again now (after an action), and goes on polling from there. */
  reload(): void;
}

/**
 * Calls `load` now, whenever `deps` change, and then every `intervalMs` (null: once). The latest
 * answer wins; answers for earlier `deps` are dropped.
 */
export function usePoll<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  intervalMs: number | null = LIVE_POLL_MS,
): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [round, setRound] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const value = await load();
        if (stopped) return;
        setData(value);
        setError(undefined);
      } catch (e) {
        if (!stopped) setError(e);
      }
      if (!stopped && intervalMs !== null) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // `load` is a new closure each render; `deps` say when it means something new.
  }, [...deps, intervalMs, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, reload };
}
