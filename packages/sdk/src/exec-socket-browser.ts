/**
 * The exec WebSocket over a WHATWG `WebSocket` (a browser's global one). It cannot send an
 * `Authorization` header, so it offers the key as the subprotocol `tartarus.bearer.<key>` beside
 * `tartarus`, which the server selects. A refused upgrade is not explained to a browser (no
 * status, no body), so the caller diagnoses a failure with a plain HTTP call (`command-handle.ts`).
 */
import { wsProtocolsFor } from '@tartarus/core/base';
import { UnavailableError } from './errors.js';
import { bearerOf, type ExecSocket } from './exec-socket.js';
import type { Transport } from './http.js';

/** The part of the WHATWG `WebSocket` this module uses (the SDK is compiled without the DOM types). */
export interface WhatwgWebSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** A WHATWG `WebSocket` constructor: the browser's global, or any implementation of the standard. */
export type WhatwgWebSocketClass = new (url: string, protocols: string[]) => WhatwgWebSocket;

/** The global `WebSocket` of this environment, if it has one. */
export function globalWebSocket(): WhatwgWebSocketClass | undefined {
  return (globalThis as { WebSocket?: WhatwgWebSocketClass }).WebSocket;
}

/**
 * Connects to `url` offering `apiKey` as a subprotocol; resolves once open, rejects with an
 * `UnavailableError` when the socket closes before opening (refused or unreachable).
 */
export async function connectWhatwgSocket(
  url: string,
  apiKey: string | undefined,
  Impl: WhatwgWebSocketClass | undefined = globalWebSocket(),
): Promise<ExecSocket> {
  if (!Impl) throw new UnavailableError('exec: this environment has no WebSocket');
  const socket = new Impl(url, wsProtocolsFor(apiKey));
  await new Promise<void>((resolve, reject) => {
    const refused = () =>
      reject(new UnavailableError(`exec: the WebSocket to ${url} was refused or could not connect`));
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', refused);
    socket.addEventListener('close', refused);
  });
  return {
    send: (text) => socket.send(text),
    close: () => socket.close(),
    listen(listeners) {
      socket.addEventListener('message', (event) => listeners.message(String(event.data)));
      socket.addEventListener('close', () => listeners.close());
      socket.addEventListener('error', () =>
        listeners.error(new Error(`the WebSocket to ${url} failed`)),
      );
    },
  };
}

/**
 * This environment's exec WebSocket: in a browser bundle this module stands in for
 * `exec-socket-node.js` (package.json `browser`), so it exports the same `connectExecSocket`.
 */
export async function connectExecSocket(transport: Transport, url: string): Promise<ExecSocket> {
  return connectWhatwgSocket(url, bearerOf(transport.authHeaders()));
}
