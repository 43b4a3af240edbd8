/**
 * The SDK's one HTTP transport: `node:http` in Node and the global `fetch` in a browser (see
 * `default-fetch.ts`), or the caller's; bearer auth, JSON in and out, and every failure turned
 * into a typed error (see `errors.ts`). The resource classes never send a request themselves.
 */
import { TartarusError } from '@tartarus/core/base';
import { defaultFetch } from './default-fetch.js';
import { InvalidArgumentError, UnavailableError, errorFromResponse } from './errors.js';

/** Options for one request. */
export interface RequestOptions {
  /** Query parameters; `undefined` values are left out. */
  query?: Record<string, string | number | boolean | undefined> | undefined;
  /** A JSON body (serialised here) or raw bytes (sent as `application/octet-stream`). */
  body?: unknown;
  /** Extra headers (e.g. `Idempotency-Key`, `Accept`). */
  headers?: Record<string, string> | undefined;
  /** Aborts the request (and a streamed response's body). */
  signal?: AbortSignal | undefined;
}

/** What the SDK reads of a response: a subset of fetch's `Response` that other HTTP clients can give too. */
export interface HttpResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The body as it arrives (a fetch `ReadableStream` is one), or null when there is none. */
  readonly body: AsyncIterable<Uint8Array> | null;
}

/** What a request is sent with: a subset of fetch's `RequestInit`. */
export interface HttpRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Sends one request (by default over `node:http` in Node, the global `fetch` in a browser; the
 * global `fetch` itself fits). It rejects on a connection failure and on an abort (`AbortError`).
 */
export type FetchLike = (url: URL, init: HttpRequestInit) => Promise<HttpResponse>;

/** Resolved connection settings, shared by every resource of one client. */
export interface Transport {
  /** Base URL of the server, without a trailing slash, e.g. `http://127.0.0.1:7070`. */
  readonly baseUrl: string;
  /** Sends a request and returns the response when its status is 2xx; throws a typed error otherwise. */
  send(method: string, path: string, options?: RequestOptions): Promise<HttpResponse>;
  /** The `Authorization` header (empty without a key), for transports other than fetch (WebSocket). */
  authHeaders(): Record<string, string>;
  /** `send`, then parses the JSON body (`undefined` for 204). */
  json<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
}

/** Creates the transport for one server and key; throws `InvalidArgumentError` for a URL that is not http(s). */
export function createTransport(baseUrl: string, apiKey: string | undefined, fetchImpl?: FetchLike): Transport {
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol))
    throw new InvalidArgumentError(
      `server URL "${baseUrl}" is not an http:// or https:// URL (e.g. http://127.0.0.1:7070)`,
    );
  const base = baseUrl.replace(/\/+$/, '');
  const sendWith = fetchImpl ?? defaultFetch;
  async function send(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpResponse> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...options.headers };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    let body: HttpRequestInit['body'];
    if (options.body instanceof Uint8Array) {
      body = options.body;
      headers['content-type'] ??= 'application/octet-stream';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let res: HttpResponse;
    try {
      res = sendWith === undefined ? await fetch(url, { method, headers, body, signal: options.signal }) : await sendWith(url, { method, headers, body, signal: options.signal });
    } catch (e) {
      throw connectionError(e, base);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    throw errorFromResponse(res.status, res.headers, text, `${method} ${path}`);
  }
  return {
    baseUrl: base,
    send,
    authHeaders: (): Record<string, string> =>
      apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    async json<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
      const res = await send(method, path, {
        ...options,
        headers: { accept: 'application/json', ...options?.headers },
      });
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

/** Why `fetch` itself failed, as a typed error: an abort stays an abort, anything else is "unreachable". */
function connectionError(e: unknown, base: string): Error {
  if (e instanceof TartarusError) return e;
  if (e instanceof Error && e.name === 'AbortError') return e;
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  return new UnavailableError(`no Tartarus server reachable at ${base} (${why})`, {
    cause: e,
    context: { url: base },
  });
}
