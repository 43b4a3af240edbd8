import { assertNever, type ErrorCode } from './errors.js';

/** HTTP status for each error code. The server maps errors to responses with this; the SDK maps back. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'invalid_argument':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'permission_denied':
      return 403;
    case 'not_found':
      return 404;
    case 'gone':
      return 410;
    case 'conflict':
    case 'sandbox_not_running':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'rate_limited':
    case 'quota_exceeded':
      return 429;
    case 'runtime_unavailable':
      return 422;
    case 'timeout':
      return 504;
    case 'unavailable':
      return 503;
    case 'internal':
      return 500;
    default:
      return assertNever(code, 'error code');
  }
}
