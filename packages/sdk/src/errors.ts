/**
 * The SDK's errors. Every error it throws is a `TartarusError` (from `@tartarus/core`), so callers
 * catch one root class and switch over `code`. The HTTP status ↔ error mapping lives here and
 * nowhere else in the SDK: `errorFromResponse` is the inverse of the server's `httpStatusFor`.
 */
import {
  ConflictError,
  ERROR_CODES,
  GoneError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  QuotaExceededError,
  RuntimeUnavailableError,
  SandboxNotRunningError,
  TartarusError,
  TimeoutError,
  UnauthenticatedError,
  assertNever,
  httpStatusFor,
  isErrorCode,
  type ErrorCode,
  type TartarusErrorOptions,
} from '@tartarus/core/base';

export {
  ConflictError,
  GoneError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  QuotaExceededError,
  RuntimeUnavailableError,
  SandboxNotRunningError,
  TartarusError,
  TimeoutError,
  UnauthenticatedError,
};
export type { ErrorCode, TartarusErrorOptions };

/** Thrown when the server refuses a call for the rate limit; `retryAfterMs` says when to try again. */
export class RateLimitedError extends TartarusError {
  /** Milliseconds to wait before retrying, from the `Retry-After` header (0 when absent). */
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: TartarusErrorOptions) {
    super('rate_limited', message, { retryable: true, ...options });
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown when a request body (a file, stdin) is larger than the server accepts. */
export class PayloadTooLargeError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('payload_too_large', message, options);
  }
}

/** Thrown when the server cannot be reached or says it is unavailable; retrying later may work. */
export class UnavailableError extends TartarusError {
  constructor(message: string, options?: TartarusErrorOptions) {
    super('unavailable', message, { retryable: true, ...options });
  }
}

/**
 * Thrown when a command's exit status was required to be zero and was not (`check: true`, or
 * `CommandHandle.wait({ check: true })`). A non-zero exit is otherwise returned as data; this
 * error carries the same data. Its `code` is `internal` only because the union is closed: test
 * for it with `instanceof`.
 */
export class CommandExitError extends TartarusError {
  /** The command's exit code (`null` when it was killed before exiting). */
  readonly exitCode: number | null;
  /** Why it ended (`exited`, `timeout`, `killed`, `oom`, ...), as the server reports it. */
  readonly reason: string;
  /** Everything the command wrote to stdout (possibly truncated by the server's cap). */
  readonly stdout: string;
  /** Everything the command wrote to stderr (possibly truncated by the server's cap). */
  readonly stderr: string;
  constructor(result: { exitCode: number | null; reason: string; stdout: string; stderr: string }) {
    const how = result.exitCode === null ? result.reason : `exit code ${result.exitCode}`;
    super('internal', `command failed: ${how}`, {
      context: { exitCode: result.exitCode, reason: result.reason },
    });
    this.exitCode = result.exitCode;
    this.reason = result.reason;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

/** The error code for an HTTP status when the body names none: the inverse of `httpStatusFor`. */
export function codeForStatus(status: number): ErrorCode {
  const code = ERROR_CODES.find((c) => httpStatusFor(c) === status);
  if (code) return code;
  if (status >= 500) return 'internal';
  return 'invalid_argument';
}

/** Builds the typed error for one code. */
function errorForCode(
  code: ErrorCode,
  message: string,
  retryAfterMs: number,
  options: TartarusErrorOptions,
): TartarusError {
  switch (code) {
    case 'invalid_argument':
      return new InvalidArgumentError(message, options);
    case 'unauthenticated':
      return new UnauthenticatedError(message, options);
    case 'permission_denied':
      return new PermissionDeniedError(message, options);
    case 'not_found':
      return new NotFoundError(message, options);
    case 'gone':
      return new GoneError(message, options);
    case 'conflict':
      return new ConflictError(message, options);
    case 'payload_too_large':
      return new PayloadTooLargeError(message, options);
    case 'rate_limited':
      return new RateLimitedError(message, retryAfterMs, options);
    case 'quota_exceeded':
      return new QuotaExceededError(message, retryAfterMs, options);
    case 'runtime_unavailable':
      return new RuntimeUnavailableError(message, options);
    case 'sandbox_not_running':
      return new SandboxNotRunningError(message, options);
    case 'timeout':
      return new TimeoutError(message, options);
    case 'unavailable':
      return new UnavailableError(message, options);
    case 'internal':
      return new InternalError(message, options);
    default:
      return assertNever(code, 'error code');
  }
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds; 0 when absent or unreadable. */
function retryAfterMs(header: string | null): number {
  if (!header) return 0;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

/**
 * The typed error for a non-2xx response. Reads the server's `{error: {code, message, details}}`
 * body when there is one; otherwise derives the code from the status.
 */
export function errorFromResponse(
  status: number,
  headers: { get(name: string): string | null },
  bodyText: string,
  what: string,
): TartarusError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  const err = (
    parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined
  )?.error;
  const code = isErrorCode(err?.code) ? err.code : codeForStatus(status);
  const message =
    typeof err?.message === 'string' && err.message
      ? err.message
      : `${what}: HTTP ${status}${bodyText ? ` ${bodyText.slice(0, 200)}` : ''}`;
  const context: Record<string, unknown> = { status };
  if (err?.details !== undefined) context.details = err.details;
  return errorForCode(code, message, retryAfterMs(headers.get('retry-after')), { context });
}

/** The typed error for an `error` event of a stream (`{error: {code, message}}` or `{code, message}`). */
export function errorFromEvent(data: unknown, what: string): TartarusError {
  const obj = (data ?? {}) as {
    error?: { code?: unknown; message?: unknown };
    code?: unknown;
    message?: unknown;
  };
  const err = obj.error ?? obj;
  const code = isErrorCode(err.code) ? err.code : 'internal';
  const message = typeof err.message === 'string' ? err.message : `${what} failed`;
  return errorForCode(code, message, 0, {});
}
