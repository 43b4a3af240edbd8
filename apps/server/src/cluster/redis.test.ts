/**
 * The Redis link against a real Redis server that is stopped and started again: the link is not
 * `listening` until its subscriptions are answered again, so whatever is published to it once it
 * says it listens arrives (a reply published before would be lost and its caller would wait out
 * its whole timeout), and a drop is reported at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../context.js';
import { redisUnavailable, startRedis } from '../testing/redis.js';
import { RedisLink } from './redis.js';

/** Resolves once `cond()` holds, polling; rejects after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('RedisLink: listening only once subscribed again after an outage; a message published then arrives; a drop is told at once', async (t) => {
  const skip = redisUnavailable();
  if (skip) return t.skip(skip);
  const redis = await startRedis();
  const a = new RedisLink(redis.url, silentLogger);
  const b = new RedisLink(redis.url, silentLogger);
  try {
    const got: string[] = [];
    let listened = 0;
    let deaf = 0;
    a.onListening(() => listened++);
    a.onDeaf(() => deaf++);
    a.subscribe('tt-test', (m) => got.push(m));
    await until(() => a.listening && b.ready, 10_000, 'both links up');
    assert.equal(listened, 1);
    for (let round = 1; round <= 3; round++) {
      await redis.halt();
      await until(() => !a.listening && !b.ready, 10_000, 'both links down');
      assert.equal(deaf, round, 'the drop told once');
      assert.equal(await b.publish('tt-test', 'lost'), -1, 'a publish while down is refused, not queued');
      await redis.resume();
      // The moment `a` says it listens, the other side's publish reaches it.
      await until(() => a.listening, 10_000, 'a listening again');
      assert.equal(listened, round + 1);
      await until(() => b.ready, 10_000, 'b ready again');
      assert.equal(await b.publish('tt-test', `after ${round}`), 1, 'the subscription in place');
      await until(() => got.length === round, 5_000, `message ${round}`);
    }
    assert.deepEqual(got, ['after 1', 'after 2', 'after 3']);
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});
