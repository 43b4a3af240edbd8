// The exec WebSocket as a browser opens it — a WHATWG WebSocket that cannot send headers, so the
// key goes as the subprotocol `tartarus.bearer.<key>` — against a real embedded server (runc,
// busybox). The WHATWG client here is `ws`'s standard interface (`new WebSocket(url, protocols)`,
// addEventListener); the dashboard's end-to-end test does the same from Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { WS_PROTOCOL, wsProtocolsFor } from '@tartarus/core';
import { Sandbox, Tartarus, UnauthenticatedError, UnavailableError } from './index.js';
import { openExecSocket } from './command-handle.js';
import * as browser from './exec-socket-browser.js';
import { connectWhatwgSocket, type WhatwgWebSocketClass } from './exec-socket-browser.js';
import { serverSkipReason, startTestServer, type TestServer } from './test-server.js';

const skip = serverSkipReason();
const Whatwg = WebSocket as unknown as WhatwgWebSocketClass;

/** Opens a raw socket offering `protocols` (no Authorization header); resolves with the selected protocol or the refusal's status. */
function rawUpgrade(url: string, protocols: string[]): Promise<{ protocol?: string; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => {
      resolve({ protocol: ws.protocol });
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', reject);
  });
}

describe('exec WebSocket with the key as a subprotocol (browser style)', { skip }, () => {
  let server: TestServer;
  let sbx: Sandbox;
  let wsUrl: string;
  before(async () => {
    server = await startTestServer();
    sbx = await Sandbox.create({ url: server.url, apiKey: server.adminKey, timeoutMs: 60_000 });
    wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/sandboxes/${sbx.id}/exec/ws`;
  });
  after(async () => {
    await sbx?.kill();
    await server?.close();
  });

  test('a browser-style client runs a command with stdin, authenticated by the subprotocol', async () => {
    const client = new Tartarus({ url: server.url, apiKey: server.adminKey });
    let out = '';
    const handle = await openExecSocket(
      client.transport,
      sbx.id,
      { argv: ['cat'] },
      { onStdout: (d) => (out += d) },
      (t, url) => connectWhatwgSocket(url, server.adminKey, Whatwg),
    );
    handle.sendStdin('ping\n');
    handle.sendStdin(new TextEncoder().encode('bytes ✓\n'));
    handle.closeStdin();
    const r = await handle.wait();
    assert.equal(r.exitCode, 0);
    assert.equal(out, 'ping\nbytes ✓\n');
  });

  test('the server selects `tartarus` and never echoes the key, in whatever order it was offered', async () => {
    const [plain, bearer] = wsProtocolsFor(server.adminKey) as [string, string];
    assert.deepEqual(await rawUpgrade(wsUrl, [plain, bearer]), { protocol: WS_PROTOCOL });
    assert.deepEqual(await rawUpgrade(wsUrl, [bearer, plain]), { protocol: WS_PROTOCOL });
  });

  test('a wrong key is refused: 401 for the upgrade, UnauthenticatedError from the SDK', async () => {
    const wrong = 'tt_' + 'x'.repeat(43);
    assert.deepEqual(await rawUpgrade(wsUrl, wsProtocolsFor(wrong)), { status: 401 });
    assert.deepEqual(await rawUpgrade(wsUrl, [WS_PROTOCOL]), { status: 401 });
    await assert.rejects(connectWhatwgSocket(wsUrl, wrong, Whatwg), UnavailableError);
    // A browser is not told why an upgrade failed; the SDK asks over HTTP with the same key.
    const client = new Tartarus({ url: server.url, apiKey: wrong });
    await assert.rejects(
      openExecSocket(client.transport, sbx.id, { argv: ['true'] }, {}, (t, url) =>
        connectWhatwgSocket(url, wrong, Whatwg),
      ),
      (e: unknown) => e instanceof UnauthenticatedError && /not valid/.test(e.message),
    );
  });

  test('plain HTTP never takes the key from Sec-WebSocket-Protocol', async () => {
    const res = await fetch(`${server.url}/v1/sandboxes`, {
      headers: { 'sec-websocket-protocol': wsProtocolsFor(server.adminKey).join(', ') },
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });

  test('the browser module stands in for the Node one: same export', () => {
    assert.equal(typeof browser.connectExecSocket, 'function');
  });
});
