/**
 * One tenant's oversized answer never cuts a node off: a server that takes small messages from
 * its agents (fileLimitBytes 1 MiB) tells the agent so at reconcile; reading a 3 MiB file (4 MiB
 * as base64) is then answered 413 instead of closing the agent's link, and the node keeps
 * serving — the same sandbox and another one — without reconnecting. A directory past the
 * listing cap is a 400 that says what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, containerSkipReason, withEmbedded } from './helpers.js';

test('an answer larger than the agent link carries is a 413, and the node keeps serving', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const a = (await A('POST', '/v1/sandboxes', { body: {} })).json.id as string;
      const b = (await A('POST', '/v1/sandboxes', { body: {} })).json.id as string;
      const mk = await A('POST', `/v1/sandboxes/${a}/exec`, {
        body: { command: 'head -c 3145728 /dev/zero > /tmp/big && mkdir /tmp/many && cd /tmp/many && seq 1 10001 | xargs touch && echo ok' },
      });
      assert.equal(mk.json.stdout, 'ok\n', mk.text);
      // Another tenant's request in flight on the same node while the oversized answer is refused.
      const inFlight = A('POST', `/v1/sandboxes/${b}/exec`, { body: { command: 'sleep 2; echo done' } });
      await new Promise((r) => setTimeout(r, 300));

      const big = await A('GET', `/v1/sandboxes/${a}/files?path=/tmp/big`);
      assert.equal(big.status, 413, big.text);
      assert.match(big.json.error.message, /more than the \d+ the link to the server carries/);
      const many = await A('GET', `/v1/sandboxes/${a}/files/list?path=/tmp/many`);
      assert.equal(many.status, 400, many.text);
      assert.match(many.json.error.message, /has more than 10000 entries: list it in parts with exec/);

      const other = await inFlight;
      assert.equal(other.status, 200, `the request in flight on the node survived: ${other.text}`);
      assert.equal(other.json.stdout, 'done\n');
      const again = await A('POST', `/v1/sandboxes/${a}/exec`, { body: { argv: ['echo', 'still here'] } });
      assert.equal(again.json.stdout, 'still here\n', again.text);
    },
    { server: { fileLimitBytes: 1 << 20 } },
  );
});
