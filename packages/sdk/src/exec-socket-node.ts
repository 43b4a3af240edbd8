/**
 * The exec WebSocket in Node: `ws`, loaded on first use (most programs, and every CLI command but
 * one, never open a WebSocket), with the transport's `Authorization` header; a refused upgrade
 * becomes the typed error of its HTTP answer, like any other call. Outside Node (an unbundled
 * browser, a runtime with a standard `WebSocket`) it uses the global `WebSocket` instead; a
 * browser bundle never includes this module (package.json `browser` maps it to
 * `exec-socket-browser.js`).
 */
import type { IncomingMessage } from 'node:http';
import { UnavailableError, errorFromResponse } from './errors.js';
import { bearerOf, type ExecSocket } from './exec-socket.js';
import { connectWhatwgSocket, globalWebSocket } from './exec-socket-browser.js';
import type { Transport } from './http.js';

/** Whether this is Node (which has `ws` and can send headers), rather than a browser. */
function inNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Reads a refused upgrade's answer into the typed error it stands for. */
function refusal(res: IncomingMessage): Promise<Error> {
  return new Promise((resolve) => {
    const decoder = new TextDecoder();
    let text = '';
    res.on('data', (c: Uint8Array) => (text += decoder.decode(c, { stream: true })));
    res.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
      resolve(errorFromResponse(res.statusCode ?? 500, headers, text, 'exec'));
    });
  });
}

/** Opens the exec WebSocket at `url`; resolves once open, rejects with a typed error otherwise. */
export async function connectExecSocket(transport: Transport, url: string): Promise<ExecSocket> {
  const whatwg = globalWebSocket();
  if (!inNode() && whatwg) return connectWhatwgSocket(url, bearerOf(transport.authHeaders()), whatwg);
  const { default: WebSocketClient } = await import('ws');
  const socket = new WebSocketClient(url, { headers: transport.authHeaders() });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', (e) =>
      reject(
        new UnavailableError(`exec: cannot connect to ${url} (${e.message})`, {
          cause: e,
          context: { url: transport.baseUrl },
        }),
      ),
    );
    socket.once('unexpected-response', (_req, res) => void refusal(res).then(reject));
  });
  return {
    send: (text) => socket.send(text),
    close: () => socket.close(),
    listen(listeners) {
      socket.on('message', (raw) => listeners.message(String(raw)));
      socket.on('close', () => listeners.close());
      socket.on('error', (e) => listeners.error(e));
    },
  };
}
