// Integrations' outbound HTTP under the destination rules, against a real server on loopback:
// refused by address and by name (the check is in the connection's own lookup), allowed when
// webhookAllowedDestinations opens the range; redirects are returned, not followed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardedFetch } from './guard.js';

test('integrations call only allowed destinations, checked at connection time', async () => {
  const server = createServer((req, res) => {
    if (req.url === '/moved') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    else res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const strict = guardedFetch({ allowed: [], listenHost: '127.0.0.1' });
    await assert.rejects(strict(`http://127.0.0.1:${port}/`), /127\.0\.0\.1:\d+ is refused \(loopback\)/);
    await assert.rejects(strict('http://169.254.169.254/'), /refused \(link-local\)/);
    await assert.rejects(strict(`http://localhost:${port}/`), (e: Error) => /refused/.test(String((e as { cause?: Error }).cause?.message ?? e.message)));
    await assert.rejects(strict('file:///etc/passwd'), /only http and https/);
    const open = guardedFetch({ allowed: ['127.0.0.0/8'], listenHost: '0.0.0.0' });
    assert.equal(await (await open(`http://127.0.0.1:${port}/`)).text(), 'ok');
    const moved = await open(`http://127.0.0.1:${port}/moved`);
    assert.equal(moved.status, 302, 'a redirect is returned, not followed');
  } finally {
    server.close();
  }
});
