/**
 * The port proxies' tunnels: two connected sockets joined both ways until both directions end
 * (a half-close passes through). A tunnel starts as a JavaScript pipe — a short exchange (a tiny
 * GET, a WebSocket's chat) never pays for a process — and once either direction has carried
 * `handoffBytes` it moves into the kernel: `tt-splice` (native/tt-splice.c) gets both sockets as
 * its fds 0 and 1 and splices them, and this process lets go of them. Bulk traffic (a download,
 * an upload) then never passes through a JavaScript buffer or this event loop.
 *
 * The hand-off keeps every byte in order: both pipes are stopped, both sockets' pending writes
 * are let out, and what was read but not yet written goes to the relay on its own pipes, which it
 * writes before anything else. Node stops reading a socket given to a child as stdio, so nothing
 * more is read here.
 *
 * A relay dies with this process (PR_SET_PDEATHSIG) and `close()` kills those still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Socket } from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import { SPLICE_HELPER } from '../sandbox/native.js';

/** Bytes one direction carries in JavaScript before the tunnel moves into the kernel. */
const HANDOFF_BYTES = 1 << 20;

/** What a tunnel carried, counted when it ends. */
export interface RelayTotals {
  /** Bytes from the first socket to the second. */
  aToB: number;
  bToA: number;
  /** Whether it moved into the kernel. */
  spliced: boolean;
}

export interface SocketRelaysOptions {
  /** Bytes one direction carries before the hand-off (default 1 MiB); Infinity keeps every tunnel in JavaScript. */
  handoffBytes?: number;
  /** The relay binary (default the built `tt-splice`); when it is missing, tunnels stay in JavaScript. */
  helper?: string;
}

/** The tunnels of one proxy. */
export class SocketRelays {
  private readonly live = new Set<Tunnel>();
  private readonly handoffBytes: number;
  private readonly helper: string | undefined;

  constructor(options: SocketRelaysOptions = {}) {
    this.handoffBytes = options.handoffBytes ?? HANDOFF_BYTES;
    const helper = options.helper ?? SPLICE_HELPER;
    this.helper = executable(helper) ? helper : undefined;
  }

  /** Tunnels open now (in JavaScript or spliced). */
  get size(): number {
    return this.live.size;
  }

  /**
   * Joins `a` and `b` (both connected; what they read goes through here only); resolves when the
   * tunnel has ended. Only two plain TCP or Unix sockets can move into the kernel; other streams
   * stay piped in JavaScript.
   */
  join(a: Duplex, b: Duplex): Promise<RelayTotals> {
    const helper = isPlainSocket(a) && isPlainSocket(b) ? this.helper : undefined;
    if (a.destroyed || b.destroyed) {
      // One side is gone already: so is the tunnel.
      a.destroy();
      b.destroy();
      return Promise.resolve({ aToB: 0, bToA: 0, spliced: false });
    }
    return new Promise((resolve) => {
      const tunnel = new Tunnel(a, b, helper, this.handoffBytes, (totals) => {
        this.live.delete(tunnel);
        resolve(totals);
      });
      this.live.add(tunnel);
      tunnel.start();
    });
  }

  /** Ends every tunnel: those in JavaScript are destroyed, spliced ones' relays killed. */
  close(): void {
    for (const t of [...this.live]) t.close();
    this.live.clear();
  }
}

/**
 * One tunnel: piped in JavaScript, then (past `handoffBytes` one way, with a helper) spliced by a
 * relay process; `onEnd` gets what it carried once both directions have ended.
 */
class Tunnel {
  private readonly totals: RelayTotals = { aToB: 0, bToA: 0, spliced: false };
  private state: 'piping' | 'handing' | 'spliced' | 'ended' = 'piping';
  private child: ChildProcess | undefined;
  private readonly countA = this.counter('aToB');
  private readonly countB = this.counter('bToA');

  constructor(
    private readonly a: Duplex,
    private readonly b: Duplex,
    private readonly helper: string | undefined,
    private readonly handoffBytes: number,
    private readonly onEnd: (totals: RelayTotals) => void,
  ) {}

  start(): void {
    const { a, b } = this;
    a.on('data', this.countA);
    b.on('data', this.countB);
    for (const [s, other] of [[a, b], [b, a]] as const) {
      s.on('error', () => other.destroy());
      s.on('close', (hadError: boolean) => {
        if (this.state === 'spliced') return;
        if (hadError) other.destroy();
        else closeAfterFlush(other);
        if (a.destroyed && b.destroyed && this.state !== 'handing') this.end();
      });
    }
    a.pipe(b);
    b.pipe(a);
  }

  close(): void {
    this.a.destroy();
    this.b.destroy();
    this.child?.kill('SIGKILL');
  }

  private end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.onEnd(this.totals);
  }

  private counter(key: 'aToB' | 'bToA'): (chunk: Buffer) => void {
    return (chunk) => {
      this.totals[key] += chunk.length;
      if (this.state === 'piping' && this.helper !== undefined && this.totals[key] >= this.handoffBytes) {
        this.state = 'handing';
        void this.handOff().catch(() => this.close());
      }
    };
  }

  private async handOff(): Promise<void> {
    const { a, b } = this;
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
    // The chunk being emitted still reaches the pipe's listener: let it be written first.
    await new Promise((r) => setImmediate(r));
    await Promise.all([flushed(a), flushed(b)]);
    if (a.destroyed || b.destroyed) return this.end();
    a.removeListener('data', this.countA);
    b.removeListener('data', this.countB);
    const toB = readBuffered(a);
    const toA = readBuffered(b);
    const child = spawn(this.helper ?? '', [String(process.pid)], { stdio: [a as Socket, b as Socket, 'pipe', 'pipe', 'pipe'] });
    child.on('error', () => undefined); // a failed spawn is handled below; a later error ends with 'close'
    if (child.pid === undefined) return this.inJavaScript(toB, toA);
    this.child = child;
    this.state = 'spliced';
    this.totals.spliced = true;
    // The relay holds its own copies of the sockets now: this process lets go of its own.
    a.destroy();
    b.destroy();
    (child.stdio[3] as Writable).end(toB);
    (child.stdio[4] as Writable).end(toA);
    let report = '';
    child.stderr?.on('data', (d: Buffer) => (report += d.toString()));
    child.on('close', () => {
      // Its count includes what it was handed first (read here, never emitted, so not counted here).
      const [ab, ba] = report.trim().split(' ').map(Number);
      this.totals.aToB += ab ?? 0;
      this.totals.bToA += ba ?? 0;
      this.end();
    });
  }

  /** The relay could not be started (no file descriptors, no processes): the tunnel goes on in JavaScript. */
  private inJavaScript(toB: Buffer, toA: Buffer): void {
    const { a, b } = this;
    this.state = 'piping';
    this.totals.aToB += toB.length;
    this.totals.bToA += toA.length;
    if (toB.length > 0) b.write(toB);
    if (toA.length > 0) a.write(toA);
    a.pipe(b);
    b.pipe(a);
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A socket whose descriptor a child can take (not TLS: its bytes are not the plaintext). */
function isPlainSocket(s: Duplex): s is Socket {
  return s instanceof Socket && !('encrypted' in s);
}

/** Closes `s` once what it was given has been written (the last bytes of a response are not cut off). */
function closeAfterFlush(s: Duplex): void {
  if (s.destroyed) return;
  if (s.writableLength === 0) return void s.destroy();
  s.once('finish', () => s.destroy());
  s.end();
}

/** Resolves once everything written to `s` so far has gone out (or `s` is gone or ended). */
function flushed(s: Duplex): Promise<void> {
  if (s.destroyed || s.writableFinished || (!s.writableEnded && s.writableLength === 0)) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('close', () => resolve());
    // Ended: it finishes once the rest is out. Else writes complete in order: an empty one's
    // callback runs once every earlier one has.
    if (s.writableEnded) s.once('finish', () => resolve());
    else s.write(Buffer.alloc(0), () => resolve());
  });
}

/** What `s` has read and nobody consumed yet. */
function readBuffered(s: Duplex): Buffer {
  const chunks: Buffer[] = [];
  for (let c = s.read() as Buffer | null; c !== null; c = s.read() as Buffer | null) chunks.push(c);
  return Buffer.concat(chunks);
}
