/**
 * The SDK's HTTP client in Node (`FetchLike`): `node:http`/`node:https`, which Node has ready at
 * start, where the global fetch loads its implementation (undici) on its first call — tens of ms
 * that every short-lived program would pay once (bench: `cliRatioVsPodman`), and ≈ 0.5 ms more
 * per request after that. Only what the SDK reads of a response is given: status, headers, the
 * body whole or as it arrives (an SSE stream). Browsers get the global fetch instead
 * (`default-fetch-browser.ts`, through the package's `browser` field).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { FetchLike, HttpResponse } from './http.js';

/** node:https (and with it tls and crypto, ≈ 10 ms to load) only for an https:// server. */
let https: Promise<typeof import('node:https')> | undefined;

/** An abort, as fetch reports one. */
function abortError(): Error {
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}

async function whole(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A response whose body is `body`: all of it (`Buffer`), or the stream itself (an SSE stream, read as it arrives). */
function response(res: IncomingMessage, body: Buffer | IncomingMessage): HttpResponse {
  const status = res.statusCode ?? 0;
  let used = false;
  const take = async (): Promise<Buffer> => {
    if (used) throw new TypeError('the response body was already read');
    used = true;
    return Buffer.isBuffer(body) ? body : whole(body);
  };
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: {
      get(name: string): string | null {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    text: async () => (await take()).toString('utf8'),
    json: async () => JSON.parse((await take()).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const b = await take();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    body: Buffer.isBuffer(body) ? (async function* () { yield body; })() : body,
  };
}

/**
 * Whether a response is read as it arrives (an event stream) rather than whole. A whole one is read
 * at once, so its connection goes back to the pool — where idle sockets do not keep the process
 * alive — even when the caller ignores the body (a 204, `/healthz`): a response left unread would
 * hold its socket, and a program would not exit until the server closed it.
 */
function streamed(res: IncomingMessage): boolean {
  return (res.headers['content-type'] ?? '').includes('text/event-stream');
}

/** Sends one request over node:http(s); rejects on a connection failure or an abort. */
export const httpFetch: FetchLike = async (url, init) => {
  const send = url.protocol === 'https:' ? (await (https ??= import('node:https'))).request : httpRequest;
  return new Promise((resolve, reject) => {
    if (init.signal?.aborted) return reject(abortError());
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    const req = send(url, { method: init.method, headers });
    const onAbort = (): void => {
      req.destroy(abortError());
    };
    init.signal?.addEventListener('abort', onAbort, { once: true });
    req.once('response', (res) => {
      // An abort after the answer began ends its body as fetch's does.
      res.once('close', () => init.signal?.removeEventListener('abort', onAbort));
      if (streamed(res)) return resolve(response(res, res));
      whole(res).then((b) => resolve(response(res, b)), reject);
    });
    req.once('error', (err) => {
      init.signal?.removeEventListener('abort', onAbort);
      reject(err.name === 'AbortError' ? err : Object.assign(new TypeError('fetch failed'), { cause: err }));
    });
    req.end(init.body);
  });
};
