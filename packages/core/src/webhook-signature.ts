/**
 * How outbound webhook deliveries are signed, and how a receiver checks one. The server sends
 *
 *     Tartarus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
 *
 * keyed with the subscription's secret (its UTF-8 bytes), as Stripe does: the timestamp is signed
 * with the body, so a receiver that refuses old timestamps also refuses replays. A header may
 * carry several `v1=` values (a receiver accepts any that matches); unknown keys are ignored, so
 * a later scheme can be added beside `v1`.
 *
 * Web Crypto only (`globalThis.crypto.subtle`, Node ≥ 19 and every browser), so `@tartarus/core/base`
 * and the SDK stay free of Node modules. `crypto.subtle.verify` compares in constant time.
 */

/** Header names of a delivery (HTTP header names are case-insensitive). */
export const WEBHOOK_HEADERS = {
  /** `t=<unix seconds>,v1=<hex>`. */
  signature: 'Tartarus-Signature',
  /** The event's id (its position in the bus); absent on a ping. */
  eventId: 'Tartarus-Event-Id',
  /** The event's type, or `ping`. */
  eventType: 'Tartarus-Event-Type',
  /** The delivery's id (`dlv_…`): the same on every retry of one delivery, so receivers can deduplicate. */
  deliveryId: 'Tartarus-Delivery-Id',
  /** Which attempt of the delivery this is, from 1. */
  attempt: 'Tartarus-Delivery-Attempt',
  /** The subscription's id (`whk_…`). */
  webhookId: 'Tartarus-Webhook-Id',
} as const;

/** Default of the tolerance of `verifyWebhookSignature`: 5 minutes, in seconds. */
export const WEBHOOK_TOLERANCE_SEC = 300;

/** A parsed `Tartarus-Signature` header. */
export interface WebhookSignatureHeader {
  /** Unix seconds. */
  timestamp: number;
  /** Hex HMAC-SHA256 values (`v1=`), each 64 hex digits. */
  v1: string[];
}

/** Parses a `Tartarus-Signature` header; null when it has no valid `t=` or no valid `v1=`. */
export function parseWebhookSignature(header: string | null | undefined): WebhookSignatureHeader | null {
  if (typeof header !== 'string') return null;
  let timestamp: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) v1.push(value.toLowerCase());
  }
  return timestamp === null || v1.length === 0 ? null : { timestamp, v1 };
}

/** `t=<timestamp>,v1=<hex>` for each hex value. */
export function formatWebhookSignature(timestamp: number, hex: string[]): string {
  return [`t=${timestamp}`, ...hex.map((h) => `v1=${h}`)].join(',');
}

/** What is signed: `"<t>."` followed by the raw body's bytes. */
export function webhookSignedBytes(timestamp: number, rawBody: string | Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  const prefix = enc.encode(`${timestamp}.`);
  const body = typeof rawBody === 'string' ? enc.encode(rawBody) : rawBody;
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Whether `header` (the `Tartarus-Signature` of a delivery) signs `rawBody` with `secret`, and its
 * timestamp is within `toleranceSec` (default 300) of `nowMs` (default now). Give the body exactly
 * as received — the bytes, or the string before any JSON parsing: a re-serialized body does not
 * verify. Never throws for a bad header: it is false.
 *
 * ```ts
 * if (!(await verifyWebhookSignature(rawBody, req.headers['tartarus-signature'], secret))) return res.writeHead(400).end();
 * ```
 */
export async function verifyWebhookSignature(
  rawBody: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
  toleranceSec = WEBHOOK_TOLERANCE_SEC,
  nowMs = Date.now(),
): Promise<boolean> {
  const parsed = parseWebhookSignature(header);
  if (parsed === null || secret === '') return false;
  if (Math.abs(nowMs / 1000 - parsed.timestamp) > toleranceSec) return false;
  const { subtle } = globalThis.crypto;
  const key = await subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const signed = webhookSignedBytes(parsed.timestamp, rawBody);
  for (const hex of parsed.v1) if (await subtle.verify('HMAC', key, hexBytes(hex), signed)) return true;
  return false;
}
