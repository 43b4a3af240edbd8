/**
 * The exec WebSocket as the SDK sees it, whichever client carries it: `ws` in Node
 * (`exec-socket-node.ts`, with the `Authorization` header like every other call) or the
 * browser's own `WebSocket` (`exec-socket-browser.ts`), which cannot send headers and so offers
 * the key as a subprotocol (`@tartarus/core` websocket-auth). The package's `browser` field maps
 * the Node module to the browser one, so a bundler targeting browsers never sees `ws`.
 */

/** What a connected socket reports; set once, right after it opened. */
export interface ExecSocketListeners {
  /** A text frame arrived. */
  message(text: string): void;
  /** The socket closed (by either side). */
  close(): void;
  /** The connection failed after it had opened. */
  error(e: Error): void;
}

/** A connected text WebSocket. */
export interface ExecSocket {
  /** Sends one text frame. */
  send(text: string): void;
  /** Closes the socket; idempotent. */
  close(): void;
  /** Starts reporting to `listeners` (call once). */
  listen(listeners: ExecSocketListeners): void;
}

/** The API key a transport sends, from its `Authorization` header (undefined without one). */
export function bearerOf(headers: Record<string, string>): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
}
