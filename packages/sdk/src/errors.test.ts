import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES as CODES, httpStatusFor } from '@tartarus/core';
import { Tartarus } from './client.js';
import {
  InvalidArgumentError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  TartarusError,
  codeForStatus,
  errorFromResponse,
} from './errors.js';

test('every code in an error body comes back as its own typed error, rooted at TartarusError', () => {
  for (const code of CODES) {
    const body = JSON.stringify({ error: { code, message: `m-${code}`, details: { x: 1 } } });
    const e = errorFromResponse(httpStatusFor(code), new Headers(), body, 'GET /x');
    assert.ok(e instanceof TartarusError);
    assert.equal(e.code, code);
    assert.equal(e.message, `m-${code}`);
    assert.deepEqual(e.context.details, { x: 1 });
  }
});

test('a status without a body maps through the inverse of httpStatusFor', () => {
  for (const code of CODES)
    assert.equal(httpStatusFor(codeForStatus(httpStatusFor(code))), httpStatusFor(code));
  const e = errorFromResponse(404, new Headers(), '', 'GET /v1/runs/x');
  assert.ok(e instanceof NotFoundError);
  assert.match(e.message, /GET \/v1\/runs\/x: HTTP 404/);
  assert.equal(codeForStatus(502), 'internal');
});

test('Retry-After becomes retryAfterMs on 429 errors', () => {
  const quota = errorFromResponse(
    429,
    new Headers({ 'retry-after': '3' }),
    JSON.stringify({ error: { code: 'quota_exceeded', message: 'q' } }),
    'x',
  );
  assert.ok(quota instanceof QuotaExceededError);
  assert.equal(quota.retryAfterMs, 3000);
  assert.equal(quota.retryable, true);
  const rate = errorFromResponse(
    429,
    new Headers({ 'retry-after': '1' }),
    JSON.stringify({ error: { code: 'rate_limited', message: 'r' } }),
    'x',
  );
  assert.ok(rate instanceof RateLimitedError);
  assert.equal(rate.retryAfterMs, 1000);
});

test('a server URL that is not http(s) is refused when the client is made, in one line', () => {
  for (const url of ['127.0.0.1:7070', 'localhost:7070', 'ftp://h/']) {
    assert.throws(
      () => new Tartarus({ url }),
      (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(`"${url}"`),
    );
  }
  assert.doesNotThrow(() => new Tartarus({ url: 'http://127.0.0.1:7070/' }));
});
