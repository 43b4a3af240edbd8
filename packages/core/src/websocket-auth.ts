/**
 * How a WebSocket client authenticates when it cannot send an `Authorization` header (a browser's
 * `WebSocket` cannot): it offers two subprotocols, `tartarus` and `tartarus.bearer.<API key>`.
 * The server takes the key from the second for WebSocket upgrades only (never for plain HTTP)
 * and answers with `tartarus`, so the key is never echoed back. API keys are `tt_` + base64url,
 * which are valid subprotocol tokens as they are. Pure; the server and the SDK both use it.
 */

/** The subprotocol the server selects for a WebSocket that offered it. */
export const WS_PROTOCOL = 'tartarus';

/** Prefix of the subprotocol that carries an API key. */
export const WS_BEARER_PREFIX = 'tartarus.bearer.';

/** The subprotocols a header-less client offers for `apiKey`: `[WS_PROTOCOL, WS_BEARER_PREFIX + apiKey]`. */
export function wsProtocolsFor(apiKey: string | undefined): string[] {
  return apiKey ? [WS_PROTOCOL, WS_BEARER_PREFIX + apiKey] : [WS_PROTOCOL];
}

/**
 * The API key offered in a `Sec-WebSocket-Protocol` header (comma-separated list), or undefined
 * when none of its entries is a bearer subprotocol.
 */
export function bearerFromWsProtocols(header: string | undefined): string | undefined {
  for (const entry of (header ?? '').split(',')) {
    const p = entry.trim();
    if (p.startsWith(WS_BEARER_PREFIX) && p.length > WS_BEARER_PREFIX.length)
      return p.slice(WS_BEARER_PREFIX.length);
  }
  return undefined;
}
