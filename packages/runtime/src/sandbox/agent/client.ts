/**
 * The host end of a connection to the in-sandbox agent (packages/runtime/guest): for a microVM a
 * unix-socket connection to QEMU's chardev of a serial port; for a container or gVisor sandbox
 * the pipes of the runtime process whose PID 1 is the agent (or of a `tt-init attach` relay).
 * Many requests and execs are multiplexed over it by id. Everything the agent sends is
 * untrusted: frames are size-capped by the decoder and a frame for an unknown id is dropped.
 */
import { connect, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  SandboxNotRunningError,
  type TartarusError,
} from '@tartarus/core';
import { decodeError, encodeFrame, FrameDecoder, Msg, type Frame } from './protocol.js';

/** Receives the frames of one exec (started, stdout, stderr, exit, error) and the connection's end. */
export interface ExecListener {
  frame(frame: Frame): void;
  closed(): void;
}

interface Pending {
  resolve(payload: Buffer): void;
  reject(err: Error): void;
  onData?: ((data: Buffer) => void) | undefined;
}

/** Most entries one directory listing returns (the guest's TT_MAX_LIST_ENTRIES). */
export const MAX_LIST_ENTRIES = 10_000;

/** Maps a guest errno to the error the driver contract expects. */
export function errnoError(errno: number, message: string): TartarusError {
  switch (errno) {
    case 2: // ENOENT
      return new NotFoundError(message);
    case 1: // EPERM
    case 13: // EACCES
      return new PermissionDeniedError(`permission denied in the sandbox: ${message}`);
    case 17: // EEXIST
    case 20: // ENOTDIR
    case 21: // EISDIR
    case 22: // EINVAL
    case 36: // ENAMETOOLONG
    case 39: // ENOTEMPTY
      return new InvalidArgumentError(message);
    case 7: {
      // E2BIG: a listing past MAX_LIST_ENTRIES (the guest says "<dir>: Argument list too long").
      const dir = message.replace(/: [^:/]*$/, '');
      return new InvalidArgumentError(
        `directory ${dir} has more than ${MAX_LIST_ENTRIES} entries: list it in parts with exec (e.g. ls ${dir} | head -n 1000)`,
        { context: { maxEntries: MAX_LIST_ENTRIES } },
      );
    }
    default:
      return new InternalError(message, { context: { errno } });
  }
}

/** The two directions of a connection; `destroy()` ends both. */
export interface AgentChannel {
  readable: Readable;
  writable: Writable;
  destroy(): void;
}

/** A live connection to an in-sandbox agent. */
export class AgentClient {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private readonly execs = new Map<number, ExecListener>();
  // Random start: after adopt() a new connection must not reuse ids of execs still running in the guest.
  private nextId = 1 + Math.floor(Math.random() * 0x40000000);
  private isClosed = false;
  /** Resolves once the agent answered (its READY frame, or the ping sent on connect). */
  readonly ready: Promise<void>;
  /** Resolves when the connection ends (the VM stopped, or destroy()). */
  readonly closed: Promise<void>;

  private constructor(
    private readonly channel: AgentChannel,
    /** What the agent runs in, for messages: "the microVM", "the sandbox". */
    private readonly what: string,
    /** A frame written before anything else (the secret, for container sandboxes). */
    first?: Buffer,
  ) {
    let onReady!: () => void;
    this.ready = new Promise((r) => (onReady = r));
    const { readable, writable } = channel;
    this.closed = new Promise((resolve) => {
      let done = false;
      const onClose = (): void => {
        if (done) return;
        done = true;
        this.isClosed = true;
        const err = new SandboxNotRunningError(
          `${what} is not running (its agent connection closed)`,
        );
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        for (const l of this.execs.values()) l.closed();
        this.execs.clear();
        resolve();
      };
      readable.on('close', onClose);
      readable.on('end', onClose);
    });
    for (const s of new Set([readable, writable])) {
      s.on('error', () => {
        /* 'close' follows and settles everything */
      });
    }
    readable.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.decoder.push(chunk);
      } catch {
        channel.destroy(); // a broken agent: treat like a dead sandbox
        return;
      }
      for (const f of frames) {
        if (f.type === Msg.ready || (f.id === 0 && f.type === Msg.ok)) onReady();
        else this.dispatch(f);
      }
    });
    if (first) this.write(first);
    // The agent's READY may have been written before we connected (and lost): ask again.
    this.write(encodeFrame(Msg.ping, 0));
  }

  /** A client over an open channel (the pipes of a container's runtime process, or a relay); `first` goes out before anything else. */
  static over(channel: AgentChannel, what: string, first?: Buffer): AgentClient {
    return new AgentClient(channel, what, first);
  }

  private write(frame: Buffer): void {
    if (!this.isClosed && this.channel.writable.writable) this.channel.writable.write(frame);
  }

  /**
   * Connects to the first agent port that answers within `answerMs`. A port in use by another
   * host connection accepts the connection (kernel backlog) but never answers, so each is tried
   * in turn.
   */
  static async connectFree(paths: string[], answerMs = 3000): Promise<AgentClient> {
    for (const path of paths) {
      const client = await AgentClient.connect(path, undefined, answerMs).catch(() => undefined);
      if (!client) continue;
      let timer: NodeJS.Timeout | undefined;
      const answered = await Promise.race([
        client.ready.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), answerMs))),
      ]);
      clearTimeout(timer);
      if (answered) return client;
      client.close();
    }
    throw new InternalError(`no guest agent port answered (tried ${paths.length})`);
  }

  /** Connects to the agent socket at `path`, retrying while QEMU has not created it yet. */
  static async connect(
    path: string,
    signal?: AbortSignal,
    timeoutMs = 10_000,
  ): Promise<AgentClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new AgentClient({ readable: socket, writable: socket, destroy: () => socket.destroy() }, 'the microVM');
      } catch (err) {
        if (Date.now() > deadline)
          throw new InternalError(`cannot connect to the guest agent socket ${path}`, {
            cause: err,
          });
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  /** How many processes (execs and the main) this connection follows now. */
  get processCount(): number {
    return this.execs.size;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  private dispatch(f: Frame): void {
    const exec = this.execs.get(f.id);
    if (exec && f.type === Msg.ok) return; // the answer to an attach
    if (exec) {
      if (f.type === Msg.exit || f.type === Msg.error) this.execs.delete(f.id);
      exec.frame(f);
      return;
    }
    const p = this.pending.get(f.id);
    if (!p) return;
    if (f.type === Msg.data) p.onData?.(f.payload);
    else if (f.type === Msg.ok) {
      this.pending.delete(f.id);
      p.resolve(f.payload);
    } else if (f.type === Msg.error) {
      this.pending.delete(f.id);
      const e = decodeError(f.payload);
      p.reject(errnoError(e.errno, e.message));
    }
  }

  /** Sends a raw frame (stdin, signals). No-op once closed. */
  send(type: number, id: number, payload?: Buffer): void {
    this.write(encodeFrame(type, id, payload));
  }

  /** Sends a request and resolves with its OK payload; DATA frames go to `onData`. */
  request(type: number, payload?: Buffer, onData?: (data: Buffer) => void): Promise<Buffer> {
    if (this.isClosed)
      return Promise.reject(new SandboxNotRunningError(`${this.what} is not running`));
    const id = this.allocId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onData });
      this.write(encodeFrame(type, id, payload));
    });
  }

  /** Sends several frames of one request (a chunked write) and resolves with its OK payload. */
  requestChunks(type: number, chunks: Buffer[]): Promise<Buffer> {
    if (this.isClosed)
      return Promise.reject(new SandboxNotRunningError(`${this.what} is not running`));
    const id = this.allocId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      for (const c of chunks) this.write(encodeFrame(type, id, c));
    });
  }

  /** Starts an exec: returns its id; `listener` gets its frames. */
  exec(payload: Buffer, listener: ExecListener): number {
    if (this.isClosed) throw new SandboxNotRunningError(`${this.what} is not running`);
    const id = this.allocId();
    this.execs.set(id, listener);
    this.write(encodeFrame(Msg.exec, id, payload));
    return id;
  }

  /** Re-attaches `listener` to exec `id` started by an earlier connection (after adopt()). */
  attach(id: number, listener: ExecListener): void {
    this.execs.set(id, listener);
  }

  private allocId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
    return id;
  }

  /** Closes the connection (the sandbox keeps running). */
  close(): void {
    this.channel.destroy();
  }
}
