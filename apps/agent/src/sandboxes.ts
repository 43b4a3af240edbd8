/**
 * Interactive sandboxes on this node: created, adopted after a restart, killed, paused, and
 * killed locally at their timeout (the agent enforces it even while the server is away).
 */
import { NotFoundError, SandboxNotRunningError } from '@tartarus/core';
import type { SandboxHandle, SandboxInfo } from '@tartarus/runtime';
import type { Link } from './link.js';
import type { AgentRuntime, CreateOptions } from './runtime-port.js';

interface Live {
  handle: SandboxHandle;
  timer?: NodeJS.Timeout;
}

/** The interactive sandboxes this agent holds. */
export class SandboxRegistry {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly runtime: AgentRuntime,
    private readonly link: () => Link,
  ) {}

  /** Ids of the sandboxes held. */
  ids(): string[] {
    return [...this.live.keys()];
  }

  /** The handle of a held sandbox; 409 when this node does not hold it. */
  get(id: string): SandboxHandle {
    const l = this.live.get(id);
    if (!l) throw new SandboxNotRunningError(`sandbox ${id} is not running on this node`);
    return l.handle;
  }

  /** Creates and starts a sandbox with the template's idle process. */
  async create(options: Omit<CreateOptions, 'command'>): Promise<void> {
    // The main process has no timeout of its own: the timer below holds it, so it can be extended.
    const handle = await this.runtime.createAndStart({ ...options, timeoutMs: 0 });
    this.hold(options.id, handle, Date.now() + options.timeoutMs);
  }

  /** Re-attaches to a sandbox found after a restart. */
  async adopt(info: SandboxInfo): Promise<void> {
    if (this.live.has(info.id)) return;
    this.hold(info.id, await this.runtime.adopt(info), undefined);
  }

  private hold(id: string, handle: SandboxHandle, timeoutAtMs: number | undefined): void {
    const l: Live = { handle };
    this.live.set(id, l);
    if (timeoutAtMs !== undefined) this.setTimeout(id, timeoutAtMs);
    // Reports only an end on its own: `kill()` removes the sandbox from `live` first, and the
    // server records the kills it asks for (the timeout reports itself below).
    void handle.wait().then(async (r) => {
      if (this.live.get(id) !== l) return;
      this.live.delete(id);
      clearTimeout(l.timer);
      this.link().send({
        type: 'sandboxState',
        sandboxId: id,
        state: 'exited',
        exit: { exitCode: r.exitCode, reason: r.reason, message: r.message ?? null },
      });
      await handle.destroy().catch(() => undefined);
    });
  }

  /** Kills at `timeoutAtMs` (local enforcement). */
  setTimeout(id: string, timeoutAtMs: number): void {
    const l = this.live.get(id);
    if (!l) throw new NotFoundError(`sandbox ${id} is not on this node`);
    clearTimeout(l.timer);
    l.timer = setTimeout(
      () => {
        void this.kill(id)
          .catch(() => undefined)
          .then(() =>
            this.link().send({
              type: 'sandboxState',
              sandboxId: id,
              state: 'killed',
              exit: {
                exitCode: null,
                reason: 'timeout',
                message: 'the sandbox reached its timeout',
              },
            }),
          );
      },
      Math.max(0, timeoutAtMs - Date.now()),
    );
    l.timer.unref();
  }

  /** Kills and destroys a sandbox. Idempotent. */
  async kill(id: string): Promise<void> {
    const l = this.live.get(id);
    if (!l) return;
    clearTimeout(l.timer);
    this.live.delete(id);
    await l.handle.kill({ graceMs: 1000 }).catch(() => undefined);
    await l.handle.destroy();
  }

  /** Stops timers (agent shutting down; the sandboxes themselves keep running for re-adoption). */
  detach(): void {
    for (const l of this.live.values()) clearTimeout(l.timer);
    this.live.clear();
  }
}
