/**
 * Tells a store call that failed because the database cannot be reached (PostgreSQL stopped,
 * restarting, refusing connections, or the connection to it broke) from one that failed for a
 * reason of its own (a bad query, a constraint). Such a failure is nobody's fault and passes by
 * itself: the API answers 503 with Retry-After (`StoreUnavailableError`, mapped in
 * `http/errors.ts`), background loops try again on their next turn (`outage-log.ts` keeps them to
 * one warning per outage). Nothing has to be reopened: pg's Pool drops a client whose connection
 * broke and connects anew on the next query.
 */
import { TartarusError, type TartarusErrorOptions } from '@tartarus/core';

/** Retry-After of a 503 while the database cannot be reached, ms (a PostgreSQL restart takes about this long). */
export const STORE_RETRY_AFTER_MS = 3000;

/** Socket errors of the connection to the database, each with what it means to a reader. */
const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection lost',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  EAI_AGAIN: 'name lookup failed',
  ENOTFOUND: 'name not found',
};

/** PostgreSQL SQLSTATEs that mean "not now" rather than "not this": the server is going or coming. */
const SQLSTATES: Record<string, string> = {
  '57P01': 'the database is shutting down',
  '57P02': 'the database crashed',
  '57P03': 'the database is starting up',
  '53300': 'the database has no free connection',
};

/** Errors node-postgres and pg-pool throw without a code, by message. */
const PG_MESSAGES: [RegExp, string][] = [
  [/^Connection terminated unexpectedly$/, 'connection lost'],
  [/^Connection terminated due to connection timeout$/, 'connection timed out'],
  [/^timeout exceeded when trying to connect$/, 'no connection within the timeout'],
  [/is not queryable$/, 'connection lost'],
];

/** Why one error (not its causes) means the database cannot be reached, or null. */
function ownReason(e: { code?: unknown; syscall?: unknown; message?: unknown }): string | null {
  const code = typeof e.code === 'string' ? e.code : '';
  // A unix socket that is not there: the server is not running (ENOENT means nothing else here).
  if (code === 'ENOENT' && e.syscall === 'connect') return 'no server at the socket';
  const known = SOCKET_ERRORS[code] ?? SQLSTATES[code];
  if (known !== undefined) return known;
  // Class 08: connection exception (08000, 08003, 08006, 08001, 08004...).
  if (/^08[0-9A-Z]{3}$/.test(code)) return 'connection failed';
  const message = typeof e.message === 'string' ? e.message : '';
  return PG_MESSAGES.find(([re]) => re.test(message))?.[1] ?? null;
}

/**
 * Why `err` means the database cannot be reached — a short phrase without addresses, e.g.
 * `connection refused` — or null when it failed for another reason. Looks through `cause` and
 * an AggregateError's `errors` (a connect tried on several addresses).
 */
export function unreachableReason(err: unknown, depth = 0): string | null {
  if (typeof err !== 'object' || err === null || depth > 4) return null;
  if (err instanceof StoreUnavailableError) return err.reason;
  if (err instanceof TartarusError && err.code !== 'internal') return null;
  const own = ownReason(err as Record<string, unknown>);
  if (own !== null) return own;
  const inner = [
    (err as { cause?: unknown }).cause,
    ...(err instanceof AggregateError ? err.errors : []),
  ];
  for (const e of inner) {
    const reason = unreachableReason(e, depth + 1);
    if (reason !== null) return reason;
  }
  return null;
}

/** Thrown when a request needs the database and it cannot be reached: 503 with `Retry-After`. */
export class StoreUnavailableError extends TartarusError {
  readonly retryAfterMs: number;
  /** What failed, e.g. `connection refused`. */
  readonly reason: string;
  constructor(reason: string, options?: TartarusErrorOptions) {
    super('unavailable', `the database cannot be reached (${reason}); retry shortly`, {
      retryable: true,
      ...options,
    });
    this.retryAfterMs = STORE_RETRY_AFTER_MS;
    this.reason = reason;
  }
}

/** `err` as a `StoreUnavailableError` (with `err` as its cause) when the database cannot be reached, else undefined. */
export function asStoreUnavailable(err: unknown): StoreUnavailableError | undefined {
  if (err instanceof StoreUnavailableError) return err;
  const reason = unreachableReason(err);
  return reason === null ? undefined : new StoreUnavailableError(reason, { cause: err });
}
