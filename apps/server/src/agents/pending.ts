/**
 * Requests the server sent to one agent and is waiting on: each gets exactly one `reply`, any
 * number of `event`s before it, and fails if the agent disconnects or does not answer in time.
 */
import { randomUUID } from 'node:crypto';
import { TartarusError, isErrorCode } from '@tartarus/core';

/** Called for each `event` message of a streaming request (exec output, build progress). */
export type EventHandler = (event: string, data: unknown) => void;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: EventHandler;
  timer: NodeJS.Timeout | undefined;
}

/** Rebuilds the error an agent reported (its code is kept when it is one of ours). */
function agentError(error: { code: string; message: string } | undefined): TartarusError {
  const code = error !== undefined && isErrorCode(error.code) ? error.code : 'internal';
  return new TartarusError(code, error?.message ?? 'the agent failed without a message');
}

/** The open requests of one connection. */
export class PendingRequests {
  private readonly open = new Map<string, Pending>();

  /** Registers a request; returns its id and the promise of its reply. `timeoutMs` 0: no limit. */
  create(
    timeoutMs: number,
    onEvent?: EventHandler,
  ): { requestId: string; reply: Promise<unknown> } {
    const requestId = randomUUID();
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.open.delete(requestId);
              reject(
                new TartarusError(
                  'timeout',
                  `the node did not answer within ${timeoutMs} ms; retry`,
                  { retryable: true },
                ),
              );
            }, timeoutMs)
          : undefined;
      this.open.set(requestId, { resolve, reject, ...(onEvent ? { onEvent } : {}), timer });
    });
    return { requestId, reply };
  }

  /** Delivers an `event` to its request (ignored if the request is gone). */
  event(requestId: string, event: string, data: unknown): void {
    this.open.get(requestId)?.onEvent?.(event, data);
  }

  /** Settles a request with the agent's `reply`. */
  reply(
    requestId: string,
    ok: boolean,
    result: unknown,
    error?: { code: string; message: string },
  ): void {
    const p = this.open.get(requestId);
    if (!p) return;
    this.open.delete(requestId);
    clearTimeout(p.timer);
    if (ok) p.resolve(result);
    else p.reject(agentError(error));
  }

  /** Forgets a request without settling it (the caller gave up). */
  drop(requestId: string): void {
    const p = this.open.get(requestId);
    if (p) clearTimeout(p.timer);
    this.open.delete(requestId);
  }

  /** Fails every open request (the connection closed). */
  failAll(message: string): void {
    for (const [id, p] of this.open) {
      clearTimeout(p.timer);
      p.reject(new TartarusError('unavailable', message, { retryable: true }));
      this.open.delete(id);
    }
  }
}
