/**
 * One delivery attempt over HTTP: a POST of the body as is, through `guardedLookup` (the address
 * connected to is one the destination rules allow), never following a redirect (a 3xx is a failed
 * attempt: following it would need the rules again, and a receiver should be given its final
 * URL), bounded in time as a whole (connect, send, answer), keeping only the first
 * `EXCERPT_BYTES` of the answer.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { AttemptResult } from '../store/webhooks.js';
import { DestinationRefusedError, guardedLookup, refusal, type DestinationPolicy } from './destination.js';

/** Most of an answer's body kept in the delivery log, bytes. */
export const EXCERPT_BYTES = 512;

/**
 * How an attempt ended, the label of `tartarus_webhook_deliveries_total`: a 2xx, another status,
 * no answer in time, no connection, a destination the rules refuse, or not sent at all (the
 * signing secret did not open).
 */
export type AttemptOutcome = 'succeeded' | 'http_error' | 'timeout' | 'network_error' | 'refused' | 'not_sent';

/** What one attempt gave: what the store records, and how it ended. */
export interface SendResult extends AttemptResult {
  outcome: AttemptOutcome;
}

/** One attempt to make. */
export interface SendOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  policy: DestinationPolicy;
  /** Aborts the attempt (the server is stopping). */
  signal?: AbortSignal | undefined;
}

class AttemptTimeout extends Error {}

/** The answer's status and the start of its body; stops reading after `EXCERPT_BYTES`. */
function readAnswer(res: IncomingMessage): Promise<{ status: number; excerpt: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => resolve({ status: res.statusCode ?? 0, excerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8') });
    res.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size >= EXCERPT_BYTES) {
        done();
        res.destroy();
      }
    });
    res.on('end', done);
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('the connection closed before the answer ended'));
    });
  });
}

function errorText(err: unknown, timedOut: boolean, timeoutMs: number): { outcome: AttemptOutcome; error: string } {
  if (timedOut || err instanceof AttemptTimeout) return { outcome: 'timeout', error: `no answer within ${timeoutMs} ms (webhookTimeoutMs)` };
  if (err instanceof DestinationRefusedError) return { outcome: 'refused', error: err.message };
  const e = err as NodeJS.ErrnoException;
  return { outcome: 'network_error', error: e.code ? `${e.code}: ${e.message}` : e.message };
}

/** POSTs once; never throws (a failure is data, in the result). */
export async function sendWebhook(o: SendOptions): Promise<SendResult> {
  const at = Date.now();
  const result = (r: Omit<SendResult, 'at' | 'durationMs'>): SendResult => ({ ...r, at, durationMs: Date.now() - at });
  const url = new URL(o.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address never goes through a lookup: it is checked here.
  const literal = isIP(host) === 0 ? null : refusal(host, o.policy);
  if (literal !== null) return result({ outcome: 'refused', ok: false, statusCode: null, error: new DestinationRefusedError(host, literal).message, excerpt: null });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  let timedOut = false;
  try {
    const answer = await new Promise<{ status: number; excerpt: string }>((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        headers: { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)) },
        lookup: guardedLookup(o.policy),
        agent: false,
      });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new AttemptTimeout());
      }, o.timeoutMs);
      const abort = () => req.destroy(new Error('the server is stopping'));
      o.signal?.addEventListener('abort', abort);
      const settle = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', abort);
      };
      req.on('response', (res) => readAnswer(res).then(resolve, reject).finally(settle));
      req.on('error', (err) => {
        settle();
        reject(err);
      });
      req.end(o.body);
    });
    const ok = answer.status >= 200 && answer.status < 300;
    const error = ok ? null : answer.status >= 300 && answer.status < 400 ? `HTTP ${answer.status}: redirects are not followed (give the final URL)` : `HTTP ${answer.status}`;
    return result({ outcome: ok ? 'succeeded' : 'http_error', ok, statusCode: answer.status, error, excerpt: answer.excerpt === '' ? null : answer.excerpt });
  } catch (err) {
    return result({ ...errorText(err, timedOut, o.timeoutMs), ok: false, statusCode: null, excerpt: null });
  }
}
