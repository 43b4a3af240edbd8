/**
 * Idle detection for hibernation: a sandbox is idle once no exec, file call or held connection
 * (the node proxy holds one per proxied connection) has been seen for `afterMs`, and none is under
 * way; then `onIdle` runs (the sandbox hibernates). Busy work inside the sandbox that nobody is
 * talking to does not count: hibernation keeps it exactly where it was.
 */

/** Watches one sandbox's activity. */
export class IdleWatch {
  private lastActiveAt = Date.now();
  private busy = 0;
  private timer: NodeJS.Timeout | undefined;
  private firing = false;

  constructor(
    private readonly afterMs: number,
    private readonly onIdle: () => Promise<void>,
  ) {}

  /** Starts checking (every quarter of `afterMs`, at most every second). Idempotent. */
  start(): void {
    if (this.timer) return;
    this.touch();
    this.timer = setInterval(() => void this.check(), Math.max(100, Math.min(1000, this.afterMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Something happened now. */
  touch(): void {
    this.lastActiveAt = Date.now();
  }

  /** Something is under way until the returned function is called (once). */
  hold(): () => void {
    this.busy++;
    this.touch();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy--;
      this.touch();
    };
  }

  private async check(): Promise<void> {
    if (this.firing || this.busy > 0 || Date.now() - this.lastActiveAt < this.afterMs) return;
    this.firing = true;
    try {
      await this.onIdle();
    } catch {
      /* refused (a command started meanwhile) or failed: tried again after the next idle period */
    } finally {
      this.touch();
      this.firing = false;
    }
  }
}
