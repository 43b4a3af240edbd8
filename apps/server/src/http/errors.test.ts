import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InternalError, NotFoundError, QuotaExceededError } from '@tartarus/core';
import pg from 'pg';
import { toErrorReply } from './errors.js';
import { RateLimiter, RateLimitedError } from './rate-limit.js';

test('typed errors keep their code and status; quota errors carry Retry-After in seconds', () => {
  assert.equal(toErrorReply(new NotFoundError('run r not found'), 1).status, 404);
  const q = toErrorReply(new QuotaExceededError('queue full', 2500), 1);
  assert.equal(q.status, 429);
  assert.equal(q.headers['retry-after'], '3');
});

test('unknown failures are a 500 without the original message', () => {
  const r = toErrorReply(new Error('secret stack detail'), 1);
  assert.equal(r.status, 500);
  assert.doesNotMatch(r.body.error.message, /secret/);
});

test('a database that cannot be reached is a 503 with Retry-After and a message that says so', async () => {
  // A real refused connect: a unix socket where no server listens.
  const refused = await new pg.Client({ host: '/nonexistent-tartarus-pg', port: 5432 })
    .connect()
    .then(
      () => assert.fail('connected to nothing'),
      (err: unknown) => err,
    );
  for (const err of [refused, new InternalError('store call failed', { cause: refused })]) {
    const r = toErrorReply(err, 1);
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'unavailable');
    assert.equal(
      r.body.error.message,
      'the database cannot be reached (no server at the socket); retry shortly',
    );
    assert.equal(r.body.error.details, undefined);
    assert.equal(r.headers['retry-after'], '3');
  }
});

test('validation issues name where and what', () => {
  const r = toErrorReply(
    {
      validation: [{ instancePath: '/limits/cpu', message: 'limits.cpu must be at most 64 cores' }],
      validationContext: 'body',
    },
    1,
  );
  assert.equal(r.body.error.message, 'body.limits.cpu: limits.cpu must be at most 64 cores');
  assert.equal(
    toErrorReply({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 10).status,
    413,
  );
});

test('token bucket: burst, then refusal with a retry time, then refill', () => {
  const rl = new RateLimiter(1, 2);
  rl.take('k', 0);
  rl.take('k', 0);
  assert.throws(
    () => rl.take('k', 0),
    (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 1000,
  );
  rl.take('k', 1000);
  rl.take('other', 0);
});
