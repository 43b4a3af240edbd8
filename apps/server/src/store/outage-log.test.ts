/** One warning per database outage, one line when it ends, nothing for other failures. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreOutageLog } from './outage-log.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
  code: 'ECONNREFUSED',
  syscall: 'connect',
});

function recorder(): {
  lines: string[];
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
} {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (_o, m) => void lines.push(`info ${m}`),
      warn: (_o, m) => void lines.push(`warn ${m}`),
    },
  };
}

test('a loop: one warning when the outage starts, one line when it ends', () => {
  const { lines, log } = recorder();
  const outage = new StoreOutageLog(log, 'sweeper');
  outage.succeeded();
  assert.deepEqual(lines, []);
  for (let i = 0; i < 10; i++) assert.equal(outage.failed(refused), true);
  assert.equal(outage.down, true);
  outage.succeeded();
  outage.succeeded();
  assert.equal(outage.failed(refused), true);
  assert.deepEqual(lines, [
    'warn sweeper: the database cannot be reached (connection refused); retrying until it answers',
    'info sweeper: the database answers again',
    'warn sweeper: the database cannot be reached (connection refused); retrying until it answers',
  ]);
});

test('callers that never succeed (requests) warn again after a quiet minute; other failures are theirs to log', () => {
  const { lines, log } = recorder();
  let now = 0;
  const outage = new StoreOutageLog(log, 'requests', () => now);
  outage.failed(refused);
  now += 59_000;
  outage.failed(refused);
  now += 61_000;
  outage.failed(refused);
  assert.equal(lines.length, 2);
  assert.equal(outage.failed(new Error('syntax error')), false);
  assert.equal(lines.length, 2);
});
