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

interface Tunnel {
  close(): void;
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
      const totals: RelayTotals = { aToB: 0, bToA: 0, spliced: false };
      let state: 'piping' | 'handing' | 'spliced' | 'ended' = 'piping';
      let child: ChildProcess | undefined;
      const tunnel: Tunnel = {
        close: () => {
          a.destroy();
          b.destroy();
          child?.kill('SIGKILL');
        },
      };
      this.live.add(tunnel);
      const end = (): void => {
        if (state === 'ended') return;
        state = 'ended';
        this.live.delete(tunnel);
        resolve(totals);
      };
      const counter = (key: 'aToB' | 'bToA') => (chunk: Buffer): void => {
        totals[key] += chunk.length;
        if (state === 'piping' && helper !== undefined && totals[key] >= this.handoffBytes) {
          state = 'handing';
          void handOff().catch(() => tunnel.close());
        }
      };
      const countA = counter('aToB');
      const countB = counter('bToA');
      const handOff = async (): Promise<void> => {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
        await Promise.all([drained(a), drained(b)]);
        if (a.destroyed || b.destroyed) return end();
        a.removeListener('data', countA);
        b.removeListener('data', countB);
        const toB = readBuffered(a);
        const toA = readBuffered(b);
        child = spawn(helper ?? '', [], { stdio: [a as Socket, b as Socket, 'pipe', 'pipe', 'pipe'] });
        state = 'spliced';
        totals.spliced = true;
        // The relay holds its own copies of the sockets now: this process lets go of its own.
        a.destroy();
        b.destroy();
        (child.stdio[3] as Writable).end(toB);
        (child.stdio[4] as Writable).end(toA);
        let report = '';
        child.stderr?.on('data', (d: Buffer) => (report += d.toString()));
        child.on('error', end);
        child.on('close', () => {
          const [ab, ba] = report.trim().split(' ').map(Number);
          // The relay counts the preambles again: they were counted here as they were read.
          totals.aToB += Math.max(0, (ab ?? 0) - toB.length);
          totals.bToA += Math.max(0, (ba ?? 0) - toA.length);
          end();
        });
      };
      a.on('data', countA);
      b.on('data', countB);
      for (const [s, other] of [[a, b], [b, a]] as const) {
        s.on('error', () => other.destroy());
        s.on('close', (hadError: boolean) => {
          if (state === 'spliced') return;
          if (hadError) other.destroy();
          else closeAfterFlush(other);
          if (a.destroyed && b.destroyed && state !== 'handing') end();
        });
      }
      a.pipe(b);
      b.pipe(a);
    });
  }

  /** Ends every tunnel: those in JavaScript are destroyed, spliced ones' relays killed. */
  close(): void {
    for (const t of [...this.live]) t.close();
    this.live.clear();
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

/** Resolves once `s` has written everything queued (or is gone). */
function drained(s: Duplex): Promise<void> {
  if (s.writableLength === 0 || s.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      s.removeListener('drain', done);
      s.removeListener('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

/** What `s` has read and nobody consumed yet. */
function readBuffered(s: Duplex): Buffer {
  const chunks: Buffer[] = [];
  for (let c = s.read() as Buffer | null; c !== null; c = s.read() as Buffer | null) chunks.push(c);
  return Buffer.concat(chunks);
}
