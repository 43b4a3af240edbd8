/**
 * The short operations on a networked sandbox's create path — `tt-layer netns|spare|take …` and
 * `nft -f -` — run by one `tt-layer serve` process per Runtime (native/serve.c), which forks a
 * child for each. Spawning from the host's large process costs its one thread ≈ 1.6 ms a time
 * (fork copies its page tables), and a networked create needed three or four such spawns; a
 * fork from the small helper costs tens of microseconds and runs beside the host.
 *
 * Requests are written as they come and answered in order (the helper runs one at a time, as the
 * host's thread started them one at a time anyway). A request that runs longer than
 * NET_TOOL_TIMEOUT_MS (counted from its turn, not from when it was queued) ends the helper (its
 * children die with it) and fails every request waiting; the next request starts a new helper.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { LAYER_HELPER } from '../sandbox/native.js';
import { NET_TOOL_TIMEOUT_MS } from './host.js';

interface Pending {
  what: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** One running `tt-layer serve`. */
class Helper {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly pending: Pending[] = [];
  private buf = Buffer.alloc(0);
  private dead: Error | undefined;
  /** The deadline of the request being run (the first one waiting): the others wait their turn. */
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onDead: (h: Helper) => void) {
    this.child = spawn(LAYER_HELPER, ['serve', String(process.pid)], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    this.child.stdout.on('data', (d: Buffer) => this.onData(d));
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (err) => this.die(new Error(`tt-layer serve: ${err.message}`)));
    // 'close': after its output is read to the end (an answer written just before it exits counts).
    this.child.on('close', (code, signal) => this.die(new Error(`tt-layer serve exited (${code ?? signal ?? '?'})`)));
    this.idle();
  }

  request(args: string[], input: string, what: string): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const blob = Buffer.from(args.map((a) => `${a}\0`).join(''));
    const data = Buffer.from(input);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(blob.length);
    const inHead = Buffer.alloc(4);
    inHead.writeUInt32LE(data.length);
    return new Promise((resolve, reject) => {
      this.pending.push({ what, resolve, reject });
      if (this.pending.length === 1) this.arm();
      this.busy();
      this.child.stdin.write(Buffer.concat([head, blob, inHead, data]));
    });
  }

  /** Ends the helper (its stdin closes: it exits when its current request is done). */
  close(): void {
    this.child.stdin.end();
  }

  /** Gives the request now running its deadline. */
  private arm(): void {
    clearTimeout(this.timer);
    const head = this.pending[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => this.kill(new Error(`${head.what} took longer than ${NET_TOOL_TIMEOUT_MS} ms`)), NET_TOOL_TIMEOUT_MS);
  }

  private kill(err: Error): void {
    this.child.kill('SIGKILL');
    this.die(err);
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) return;
      const status = this.buf.readInt32LE(0);
      const out = this.buf.subarray(8, 8 + len).toString('utf8');
      this.buf = this.buf.subarray(8 + len);
      const p = this.pending.shift();
      this.arm();
      if (!p) continue;
      if (status === 0) p.resolve();
      else p.reject(new Error(`${p.what} failed: ${out.trim().split('\n').slice(-2).join('; ') || `exit ${status}`}`));
      if (this.pending.length === 0) this.idle();
    }
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    clearTimeout(this.timer);
    for (const p of this.pending.splice(0)) p.reject(err);
    this.onDead(this);
  }

  // Waiting for nothing, the helper does not keep the host's process alive; while a request is out, it does.
  private idle(): void {
    this.child.unref();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  private busy(): void {
    this.child.ref();
    (this.child.stdout as unknown as { ref?: () => void }).ref?.();
    (this.child.stdin as unknown as { ref?: () => void }).ref?.();
  }
}

/** The network operations of one Runtime, through its helper. */
export class NetTools {
  private helper: Helper | undefined;

  /** `tt-layer ARGS…` (e.g. `netns BASE PATH …`). */
  layerRun(args: string[]): Promise<void> {
    return this.get().request(args, '', `tt-layer ${args[0] ?? ''}`);
  }

  /** `nft -f -` of `script`. */
  nft(script: string): Promise<void> {
    return this.get().request(['exec', 'nft', '-f', '-'], script, 'nft -f -');
  }

  close(): void {
    this.helper?.close();
    this.helper = undefined;
  }

  private get(): Helper {
    this.helper ??= new Helper((h) => {
      if (this.helper === h) this.helper = undefined;
    });
    return this.helper;
  }
}
