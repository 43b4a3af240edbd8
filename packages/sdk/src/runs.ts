/**
 * `client.runs`: queued jobs. `submit` queues one (optionally waiting for the result), `wait`
 * resolves when it is final, `followLogs` streams its output as it is produced.
 */
import type { Transport } from './http.js';
import { InternalError, UnavailableError, errorFromEvent } from './errors.js';
import { readSse } from './sse.js';
import type {
  ListOptions,
  Page,
  Run,
  RunAttempt,
  RunLogEntry,
  RunStateName,
  SubmitRunRequest,
} from './types.js';

/** Options of `runs.submit`. */
export interface SubmitOptions {
  /** Same key + same body within 24 h returns the first run instead of queueing another. */
  idempotencyKey?: string;
  /**
   * Answer once the run is final (with its stdout/stderr): `true` (server cap 15 min) or a number
   * of milliseconds. If the run is not final by then, the current run is returned.
   */
  wait?: boolean | number;
  /** Aborts the call. */
  signal?: AbortSignal;
}

/** States after which a run never changes. */
export const FINAL_RUN_STATES: ReadonlySet<RunStateName> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'dead',
]);

/** Pause before following a run's logs again after the stream ended early, ms. */
const RECONNECT_DELAY_MS = 250;
/** How long `followLogs` keeps trying to reach a server that went away, ms. */
const DEFAULT_RECONNECT_MS = 30_000;

/** Runs API. */
export class Runs {
  constructor(private readonly transport: Transport) {}

  /** Queues a run. `argv` or `command` (a shell string) is required. */
  async submit(request: SubmitRunRequest, options: SubmitOptions = {}): Promise<Run> {
    const wait =
      options.wait === true
        ? 'true'
        : typeof options.wait === 'number'
          ? `${Math.round(options.wait)}ms`
          : undefined;
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    return this.transport.json<Run>('POST', '/v1/runs', {
      body: request,
      query: { wait },
      headers,
      signal: options.signal,
    });
  }

  /** Gets a run; with `output: true` its stdout/stderr are included. */
  async get(id: string, options: { output?: boolean } = {}): Promise<Run> {
    return this.transport.json<Run>('GET', this.path(id), { query: { output: options.output } });
  }

  /** Lists runs, newest first. */
  async list(options: ListOptions & { state?: RunStateName } = {}): Promise<Page<Run>> {
    return this.transport.json<Page<Run>>('GET', '/v1/runs', { query: { ...options } });
  }

  /** Cancels a run (a running attempt is killed). Idempotent on a final run. */
  async cancel(id: string): Promise<Run> {
    return this.transport.json<Run>('POST', `${this.path(id)}/cancel`);
  }

  /** The attempts of a run, oldest first. */
  async attempts(id: string): Promise<RunAttempt[]> {
    return (await this.transport.json<{ items: RunAttempt[] }>('GET', `${this.path(id)}/attempts`))
      .items;
  }

  /** One page of a run's stored output: chunks with `seq > since`; pass `nextSince` back to go on. */
  async logs(
    id: string,
    options: { since?: number; limit?: number } = {},
  ): Promise<{ items: RunLogEntry[]; nextSince: number }> {
    return this.transport.json('GET', `${this.path(id)}/logs`, { query: { ...options } });
  }

  /**
   * Streams a run's output (after `since`, default from the start) until the run is final; the
   * generator's return value is the final state. A stream cut short (server restart, network) is
   * resumed after the last chunk seen, so nothing is lost or repeated; the server may stay
   * unreachable for up to `reconnectMs` (default 30 s) before the `UnavailableError` is thrown.
   */
  async *followLogs(
    id: string,
    options: { since?: number; signal?: AbortSignal; reconnectMs?: number } = {},
  ): AsyncGenerator<RunLogEntry, RunStateName> {
    let since = options.since ?? 0;
    let lastContact = Date.now();
    for (;;) {
      try {
        const stream = this.followOnce(id, since, options.signal);
        let step = await stream.next();
        for (; !step.done; step = await stream.next()) {
          since = step.value.seq;
          lastContact = Date.now();
          yield step.value;
        }
        if (step.value !== undefined) return step.value;
        const state = (await this.get(id)).state;
        if (FINAL_RUN_STATES.has(state)) return state;
        lastContact = Date.now();
      } catch (e) {
        const patience = options.reconnectMs ?? DEFAULT_RECONNECT_MS;
        if (!(e instanceof UnavailableError) || Date.now() - lastContact > patience) throw e;
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
    }
  }

  /** Resolves with the run (including its stdout/stderr) once it is final. */
  async wait(id: string, options: { signal?: AbortSignal } = {}): Promise<Run> {
    const logs = this.followLogs(id, options);
    while (!(await logs.next()).done) {
      /* drain: only the end matters */
    }
    return this.get(id, { output: true });
  }

  /** One SSE connection: yields chunks; returns the final state, or undefined if it ended early. */
  private async *followOnce(
    id: string,
    since: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<RunLogEntry, RunStateName | undefined> {
    const res = await this.transport.send('GET', `${this.path(id)}/logs`, {
      query: { follow: true, since },
      headers: { accept: 'text/event-stream' },
      signal,
    });
    if (!res.body) throw new InternalError('logs: the server sent an empty stream');
    for await (const ev of readSse(res.body)) {
      if (ev.event === 'log') yield ev.data as RunLogEntry;
      else if (ev.event === 'end') return (ev.data as { state: RunStateName }).state;
      else if (ev.event === 'error') throw errorFromEvent(ev.data, 'logs');
    }
    return undefined;
  }

  private path(id: string): string {
    return `/v1/runs/${encodeURIComponent(id)}`;
  }
}
