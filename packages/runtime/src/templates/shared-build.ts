/**
 * One in-flight build shared by every caller that asks for the same template in this process.
 * Each caller may cancel its own wait; the build itself is aborted only when every caller
 * waiting on it has cancelled, so one impatient caller never breaks another's build.
 */
import type { TemplateProgress } from './types.js';

/** Runs the build; `emit` fans progress out to every waiting caller. */
export type BuildRunner<T> = (
  signal: AbortSignal,
  emit: (p: TemplateProgress) => void,
) => Promise<T>;

/** A build in progress with its waiters. */
export class SharedBuild<T> {
  /** Settles when the build itself ends, whatever the waiters did. */
  readonly done: Promise<T>;
  private readonly controller = new AbortController();
  private readonly listeners = new Set<(p: TemplateProgress) => void>();
  private waiters = 0;

  constructor(run: BuildRunner<T>) {
    this.done = run(this.controller.signal, (p) => {
      for (const listener of this.listeners) listener(p);
    });
    this.done.catch(() => undefined); // waiters observe the failure; never unhandled
  }

  /**
   * Waits for the build; rejects with `signal.reason` when `signal` aborts: at once while others
   * still wait, or after the build has stopped and cleaned up when this was the last waiter.
   */
  join(signal?: AbortSignal, onProgress?: (p: TemplateProgress) => void): Promise<T> {
    this.waiters++;
    if (onProgress) this.listeners.add(onProgress);
    const leave = (): void => {
      if (onProgress) this.listeners.delete(onProgress);
    };
    if (!signal) return this.done.finally(leave);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        leave();
        this.waiters--;
        if (this.waiters > 0) return reject(signal.reason);
        // The last waiter cancels the build and hears back only once its cleanup is done, so
        // "rejected" means "nothing left behind".
        this.controller.abort(signal.reason);
        void this.done.catch(() => undefined).then(() => reject(signal.reason));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.done.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          leave();
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          leave();
          reject(err);
        },
      );
    });
  }
}
