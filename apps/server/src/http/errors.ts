/**
 * The one place the server turns a failure into an HTTP response: `TartarusError` codes through
 * `httpStatusFor`, fastify's own errors (bad JSON, body too large, schema validation) into 4xx
 * with a message that says what to change, a database that cannot be reached into 503 with
 * Retry-After (`store/unreachable.ts` decides which failures those are). Anything else is a 500
 * without a stack.
 */
import {
  httpStatusFor,
  QuotaExceededError,
  TartarusError,
  type ErrorCode,
  type ErrorResponse,
} from '@tartarus/core';
import { asStoreUnavailable } from '../store/unreachable.js';

/** What the error handler sends. */
export interface ErrorReply {
  status: number;
  body: ErrorResponse;
  headers: Record<string, string>;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: {
    instancePath?: string;
    message?: string;
    keyword?: string;
    params?: Record<string, unknown>;
  }[];
  validationContext?: string;
}

function reply(
  code: ErrorCode,
  message: string,
  details?: unknown,
  headers: Record<string, string> = {},
): ErrorReply {
  const body: ErrorResponse = {
    error: { code, message, ...(details === undefined ? {} : { details }) },
  };
  return { status: httpStatusFor(code), body, headers };
}

const CONTEXT_NAMES: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

/** One readable line per schema issue: `body.limits.cpu: limits.cpu must be at most 64 cores`. */
function validationMessage(e: FastifyLikeError): { message: string; details: unknown } {
  const where = CONTEXT_NAMES[e.validationContext ?? 'body'] ?? 'request';
  const issues = (e.validation ?? []).map((v) => {
    const path = (v.instancePath ?? '').split('/').filter(Boolean).join('.');
    let message = v.message ?? 'invalid';
    if (v.keyword === 'unrecognized_keys' && Array.isArray(v.params?.['keys'])) {
      message = `remove unknown field(s) ${(v.params['keys'] as string[]).join(', ')}`;
    } else if (/received undefined/.test(message)) {
      message = `is required (${message})`;
    }
    return { path: `${where}${path ? '.' + path : ''}`, message };
  });
  const first = issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  return { message: first || `invalid ${where}`, details: { issues } };
}

/** Maps fastify's built-in error codes (FST_ERR_*) to ours, with a message that says what to change. */
function fastifyError(e: FastifyLikeError, bodyLimitBytes: number): ErrorReply | undefined {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply(
        'payload_too_large',
        `request body is larger than the limit of ${bodyLimitBytes} bytes; send less (write big inputs as files)`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply(
        'invalid_argument',
        'unsupported Content-Type: send application/json (or application/octet-stream for file uploads)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply(
        'invalid_argument',
        'the body is empty but Content-Type is application/json: send a JSON object, e.g. {}',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return reply('invalid_argument', 'Content-Length does not match the body sent');
    case 'FST_ERR_BAD_URL':
      return reply(
        'invalid_argument',
        'the URL has a malformed %-escape; percent-encode it as UTF-8',
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return reply('invalid_argument', 'a path parameter is too long (at most 100 characters)');
    default:
      break;
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return reply(
      'invalid_argument',
      `the body is not valid JSON (${e.message ?? ''}); send a JSON object`,
    );
  }
  const s = e.statusCode;
  if (s !== undefined && s >= 400 && s < 500) {
    const code: ErrorCode =
      s === 413 ? 'payload_too_large' : s === 404 ? 'not_found' : 'invalid_argument';
    return reply(code, e.message ?? 'bad request');
  }
  return undefined;
}

/** Maps anything thrown by a handler or hook to the response to send. */
export function toErrorReply(thrown: unknown, bodyLimitBytes: number): ErrorReply {
  // Before the typed errors: an InternalError may wrap a lost connection.
  const err = asStoreUnavailable(thrown) ?? thrown;
  if (err instanceof TartarusError) {
    const headers: Record<string, string> = {};
    if (err instanceof QuotaExceededError || 'retryAfterMs' in err) {
      const ms = Number((err as { retryAfterMs?: number }).retryAfterMs ?? 1000);
      headers['retry-after'] = String(Math.max(1, Math.ceil(ms / 1000)));
    }
    const details = Object.keys(err.context).length > 0 ? err.context : undefined;
    return reply(err.code, err.message, details, headers);
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const { message, details } = validationMessage(e);
    return reply('invalid_argument', message, details);
  }
  return (
    fastifyError(e, bodyLimitBytes) ??
    reply('internal', 'internal error; the server log has the details')
  );
}
