/**
 * Calls the server made to one agent and is waiting on: each gets exactly one `reply`, any number
 * of `event`s before it, and fails if the agent disconnects or does not answer in time. Replies
 * and events are validated against the call's schemas in `AGENT_CALLS`: a malformed one fails the
 * call with `internal` instead of reaching a caller as an unchecked value.
 */
import { randomUUID } from 'node:crypto';
import {
  AGENT_CALLS,
  isErrorCode,
  TartarusError,
  type AgentCallEvent,
  type AgentCallName,
  type AgentCallOutput,
} from '@tartarus/core';
import type { z } from 'zod';

interface Pending {
  name: AgentCallName;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (e: { event: string; data: unknown }) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Rebuilds the error an agent reported (its code is kept when it is one of ours). */
function agentError(error: { code: string; message: string } | undefined): TartarusError {
  const code = error !== undefined && isErrorCode(error.code) ? error.code : 'internal';
  return new TartarusError(code, error?.message ?? 'the agent failed without a message');
}

function malformed(name: string, what: string, err: z.ZodError): TartarusError {
  return new TartarusError(
    'internal',
    `the agent's ${what} to ${name} is malformed: ${err.issues[0]?.message ?? ''}`,
  );
}

/** The open calls of one connection. */
export class PendingCalls {
  private readonly open = new Map<string, Pending>();

  /** Registers a call; returns its id and the promise of its reply. `timeoutMs` 0: no limit. */
  create<N extends AgentCallName>(
    name: N,
    timeoutMs: number,
    onEvent?: (e: AgentCallEvent<N>) => void,
  ): { requestId: string; reply: Promise<AgentCallOutput<N>> } {
    const requestId = randomUUID();
    const reply = new Promise<AgentCallOutput<N>>((resolve, reject) => {
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
      this.open.set(requestId, {
        name,
        resolve: resolve as (v: unknown) => void,
        reject,
        ...(onEvent ? { onEvent: onEvent as Pending['onEvent'] } : {}),
        timer,
      });
    });
    return { requestId, reply };
  }

  /** Delivers a valid `event` to its call (ignored if the call is gone or the event unknown). */
  event(requestId: string, event: string, data: unknown): void {
    const p = this.open.get(requestId);
    if (!p?.onEvent) return;
    const schemas: Record<string, z.ZodType> = AGENT_CALLS[p.name].events;
    const schema = schemas[event];
    if (schema === undefined) return;
    const parsed = schema.safeParse(data);
    if (parsed.success) p.onEvent({ event, data: parsed.data });
  }

  /** Settles a call with the agent's `reply`, validated against the call's output schema. */
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
    if (!ok) return p.reject(agentError(error));
    const parsed = AGENT_CALLS[p.name].output.safeParse(result);
    if (parsed.success) p.resolve(parsed.data);
    else p.reject(malformed(p.name, 'reply', parsed.error));
  }

  /** Fails every open call (the connection closed). */
  failAll(message: string): void {
    for (const [id, p] of this.open) {
      clearTimeout(p.timer);
      p.reject(new TartarusError('unavailable', message, { retryable: true }));
      this.open.delete(id);
    }
  }
}
