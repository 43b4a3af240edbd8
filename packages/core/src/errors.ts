/**
 * One root error class for the whole project. Every error that crosses a package boundary is a
 * `TartarusError` with a stable `code`; the HTTP mapping lives in `http-status.ts` and is used by
 * exactly one place on the server and one in the SDK.
 */

/** Every stable error code, in one list: `ErrorCode` and the API's `ErrorCodeSchema` derive from it. */
export const ERROR_CODES = [
  'invalid_argument',
  'unauthenticated',
  'permission_denied',
  'not_found',
  'gone',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'quota_exceeded',
  'runtime_unavailable',
  'sandbox_not_running',
  'timeout',
  'unavailable',
  'internal',
] as const;

/** Stable error codes. Switch over them with an exhaustiveness check. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `value` is one of the `ErrorCode`s (e.g. a code read from the wire). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Options shared by every Tartarus error. */
export interface TartarusErrorOptions {
  /** Whether the same call may succeed if retried unchanged. Default: false. */
  retryable?: boolean;
  /** The underlying error, if any. */
  cause?: unknown;
  /** Structured context (ids, paths, limits) for logs and API error bodies. */
  context?: Record<string, unknown>;
}

/** Root of every error Tartarus throws on purpose. */
export class TartarusError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: TartarusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

/** Thrown when a caller passes a value that is malformed or out of range; the message says what to change. */
export class InvalidArgumentError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('invalid_argument', message, options);
  }
}

/** Thrown when a named object (sandbox, run, template, key, tenant) does not exist or is not visible to the caller. */
export class NotFoundError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('not_found', message, options);
  }
}

/**
 * Thrown when an object still exists but what was asked of it was deleted by a retention policy
 * (a run's logs after the server's `runLogRetentionMs`); the message says when and why.
 */
export class GoneError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('gone', message, options);
  }
}

/** Thrown when the call conflicts with the object's current state (e.g. an idempotency key reused with another body). */
export class ConflictError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('conflict', message, options);
  }
}

/** Thrown when a sandbox operation needs a running sandbox and it is not running. */
export class SandboxNotRunningError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('sandbox_not_running', message, options);
  }
}

/** Thrown when a runtime driver cannot run on this machine (tool or hardware missing); `message` says why. */
export class RuntimeUnavailableError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('runtime_unavailable', message, options);
  }
}

/** Thrown when a call does not finish within its deadline. */
export class TimeoutError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('timeout', message, { retryable: true, ...options });
  }
}

/** Thrown when a credential is missing or not valid. */
export class UnauthenticatedError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('unauthenticated', message, options);
  }
}

/** Thrown when the caller's role does not allow the call. */
export class PermissionDeniedError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('permission_denied', message, options);
  }
}

/** Thrown when a tenant is over a quota or a rate limit; `retryAfterMs` says when to try again. */
export class QuotaExceededError extends TartarusError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: TartarusErrorOptions) {
    super('quota_exceeded', message, { retryable: true, ...options });
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown when no node had room for the work within the caller's wait (HTTP 503 with Retry-After). */
export class CapacityUnavailableError extends TartarusError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: TartarusErrorOptions) {
    super('unavailable', message, { retryable: true, ...options });
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown for a bug or an unexpected failure of a tool Tartarus runs (runc, qemu...). */
export class InternalError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('internal', message, options);
  }
}

/** Fails the type check when a switch over a string-literal union misses a case. */
export function assertNever(value: never, what = 'value'): never {
  throw new InternalError(`unexpected ${what}: ${String(value)}`);
}
