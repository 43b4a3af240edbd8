/**
 * The Loki shipper. Design rules:
 *
 * - `push` is all the caller ever pays: it labels and stamps the line and appends it to an
 *   in-memory queue. Nothing on the run path waits for Loki, however slow or absent it is.
 * - One push request at a time, oldest lines first, so each stream reaches Loki in order. A batch
 *   goes once `batchBytes` wait or `batchMs` after its first line, whichever comes first.
 * - A failed push (network, timeout, 429, 5xx) is retried with exponential backoff and jitter
 *   (250 ms doubling to 30 s) until it goes through; a push Loki refuses (another 4xx: a line too
 *   old or too long, bad labels) would fail again and is dropped.
 * - Memory is bounded: at most `bufferBytes` of lines wait, plus the one batch in flight. Past it
 *   the oldest waiting lines are dropped — a reader of Loki wants the latest lines most — and
 *   counted in `tartarus_log_lines_dropped_total{reason="buffer_full"}`.
 * - `close` gives what waits one last chance (2 s), then drops the rest (`reason="shutdown"`).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Logger } from '../context.js';
import type { LogShippingMetrics } from '../http/metrics.js';
import { labelsOf, pushBody, StreamClock, type LabelOptions, type LineOrigin, type PushLine, type PushTarget } from './loki-push.js';

const gzip = promisify(gzipCallback);

/** Where lines go: Loki, or nowhere. */
export interface LogShipper {
  /** False when nothing is shipped (no `lokiUrl`): callers may skip preparing lines. */
  readonly enabled: boolean;
  /** Queues one line written at `atMs` (epoch ms). In memory only: never waits, never throws. */
  push(origin: LineOrigin, atMs: number, line: string): void;
  /** Pushes what waits (for at most 2 s), then stops. Idempotent. */
  close(): Promise<void>;
}

/** The shipper of a server without Loki. */
export const NO_SHIPPING: LogShipper = { enabled: false, push() {}, close: async () => {} };

/** Options of `LokiShipper`, resolved. */
export interface LokiShipperOptions {
  target: PushTarget;
  labels: LabelOptions;
  batchMs: number;
  batchBytes: number;
  bufferBytes: number;
  metrics: LogShippingMetrics;
  /** The shipper's own warnings (Loki away, back, refusing); they are shipped like any line. */
  log: Logger;
  /** One push's limit, ms. Default 10 s. */
  timeoutMs?: number;
  /** Backoff of retried pushes, ms. Default 250 doubling to 30 000. */
  retry?: { initialMs: number; maxMs: number };
}

/** A line in the queue. */
interface Entry extends PushLine {
  source: LineOrigin['source'];
  /** Roughly what it costs in memory and on the wire. */
  bytes: number;
}

/** What became of one push. */
type Outcome = { kind: 'ok' } | { kind: 'retry'; reason: string } | { kind: 'refused'; reason: string; detail: string };

/** Per-line overhead counted on top of its text: timestamp, quotes, metadata. */
const ENTRY_OVERHEAD_BYTES = 48;
/** How long `close` tries to push what waits. */
const CLOSE_GRACE_MS = 2000;

/** Ships lines to Loki's push API. */
export class LokiShipper implements LogShipper {
  readonly enabled = true;
  private readonly clock = new StreamClock();
  private queue: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private failing = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  /** Ends a backoff sleep early (close). */
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  private readonly agent: HttpAgent;

  constructor(private readonly o: LokiShipperOptions) {
    const Agent = o.target.url.protocol === 'https:' ? HttpsAgent : HttpAgent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }

  push(origin: LineOrigin, atMs: number, line: string): void {
    if (this.closing) return;
    const { labels, key, metadata } = labelsOf(origin, this.o.labels);
    const bytes = line.length + ENTRY_OVERHEAD_BYTES + (metadata === undefined ? 0 : 64);
    this.makeRoom(bytes);
    this.queue.push({ key, labels, ts: this.clock.stamp(key, atMs), line, metadata, source: origin.source, bytes });
    this.queuedBytes += bytes;
    this.o.metrics.bufferBytes.set(this.queuedBytes);
    this.schedule();
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  /** Drops the oldest waiting lines until `bytes` more fit in the buffer. */
  private makeRoom(bytes: number): void {
    let dropped = 0;
    while (this.queuedBytes + bytes > this.o.bufferBytes && this.head < this.queue.length) {
      this.queuedBytes -= (this.queue[this.head] as Entry).bytes;
      this.head++;
      dropped++;
    }
    if (dropped > 0) this.o.metrics.dropped.inc({ reason: 'buffer_full' }, dropped);
  }

  /** Starts a push now (a full batch waits) or arms the batch timer. */
  private schedule(): void {
    if (this.pumping !== undefined || this.closing) return;
    if (this.queuedBytes >= this.o.batchBytes) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.pumping = this.pump();
    } else if (this.timer === undefined && this.waiting() > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pumping ??= this.pump();
      }, this.o.batchMs);
      this.timer.unref();
    }
  }

  private waiting(): number {
    return this.queue.length - this.head;
  }

  /** Takes the oldest lines, up to one batch (at least one line). */
  private take(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 0;
    while (this.head < this.queue.length) {
      const e = this.queue[this.head] as Entry;
      if (batch.length > 0 && bytes + e.bytes > this.o.batchBytes) break;
      batch.push(e);
      bytes += e.bytes;
      this.head++;
    }
    this.queuedBytes -= bytes;
    // Compact now and then rather than shifting on every take.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.o.metrics.bufferBytes.set(this.queuedBytes);
    return batch;
  }

  /** Pushes full batches back to back; a partial one waits for the timer. */
  private async pump(): Promise<void> {
    try {
      while (this.waiting() > 0) {
        await this.deliver(this.take());
        if (this.closing || this.queuedBytes < this.o.batchBytes) break;
      }
    } finally {
      this.pumping = undefined;
      this.schedule();
    }
  }

  /** Pushes one batch until Loki takes or refuses it, or the shipper closes. */
  private async deliver(batch: Entry[]): Promise<void> {
    const body = await gzip(JSON.stringify(pushBody(batch)));
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.send(body);
      if (outcome.kind === 'ok') return this.delivered(batch);
      if (outcome.kind === 'refused') {
        this.o.metrics.dropped.inc({ reason: 'rejected' }, batch.length);
        this.o.log.warn({ reason: outcome.reason, detail: outcome.detail, lines: batch.length }, 'Loki refused a push: its lines are dropped');
        return;
      }
      this.o.metrics.pushFailures.inc({ reason: outcome.reason });
      if (!this.failing) {
        this.failing = true;
        this.o.log.warn({ reason: outcome.reason, url: this.o.target.url.href }, 'Loki push failed: retrying with backoff, lines wait in memory');
      }
      if (this.closing) {
        this.o.metrics.dropped.inc({ reason: 'shutdown' }, batch.length);
        return;
      }
      await this.sleep(this.backoffMs(attempt));
    }
  }

  private delivered(batch: Entry[]): void {
    const bySource = new Map<string, number>();
    for (const e of batch) bySource.set(e.source, (bySource.get(e.source) ?? 0) + 1);
    for (const [source, n] of bySource) this.o.metrics.shipped.inc({ source }, n);
    if (this.failing) {
      this.failing = false;
      this.o.log.info({ url: this.o.target.url.href }, 'Loki takes pushes again');
    }
  }

  /** Exponential backoff with jitter: half of it fixed, half random. */
  private backoffMs(attempt: number): number {
    const { initialMs, maxMs } = this.o.retry ?? { initialMs: 250, maxMs: 30_000 };
    const ms = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
    return ms / 2 + (Math.random() * ms) / 2;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One POST of a gzipped body. */
  private send(body: Buffer): Promise<Outcome> {
    const { url, headers } = this.o.target;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = request(url, { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': body.length }, timeout: this.o.timeoutMs ?? 10_000, signal: this.abort.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (chunks.length < 8) chunks.push(c);
        });
        res.on('error', () => resolve({ kind: 'retry', reason: 'network' }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ kind: 'ok' });
          else if (status === 429 || status >= 500 || status < 200) resolve({ kind: 'retry', reason: `http_${status}` });
          else resolve({ kind: 'refused', reason: `http_${status}`, detail: Buffer.concat(chunks).toString('utf8').slice(0, 500) });
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve({ kind: 'retry', reason: err.message === 'timeout' ? 'timeout' : 'network' }));
      req.end(body);
    });
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    this.wake?.();
    const deadline = setTimeout(() => this.abort.abort(), CLOSE_GRACE_MS);
    try {
      await this.pumping;
      // One last try for what waits, within the same grace.
      while (this.waiting() > 0 && !this.abort.signal.aborted) {
        const batch = this.take();
        const outcome = await this.send(await gzip(JSON.stringify(pushBody(batch))));
        if (outcome.kind === 'ok') this.delivered(batch);
        else this.o.metrics.dropped.inc({ reason: outcome.kind === 'refused' ? 'rejected' : 'shutdown' }, batch.length);
      }
      const left = this.waiting();
      if (left > 0) this.o.metrics.dropped.inc({ reason: 'shutdown' }, left);
    } finally {
      clearTimeout(deadline);
      this.queue = [];
      this.head = 0;
      this.queuedBytes = 0;
      this.o.metrics.bufferBytes.set(0);
      this.agent.destroy();
    }
  }
}
