/**
 * Runtime processes started ahead of need. Spawning from a large process (the server and agent
 * in one, embedded) costs milliseconds of the parent's own time (fork copies its page tables);
 * on the hot path that is most of what Tartarus adds to a run. So one `tt-layer stdin` is kept
 * waiting: a sandbox's start hands it its arguments on stdin (tt-layer then execs the runtime,
 * which keeps the same pipes) and a replacement is spawned while the container boots. A waiting
 * process exits by itself when its stdin closes (the host went away), so none is ever left.
 */
import type { ProcessHandle, StartOptions } from '../../process/run.js';
import { startProcess } from '../../process/run.js';
import { LAYER_HELPER } from '../../sandbox/native.js';

/**
 * Delay between handing out the waiting process and spawning its replacement, ms: a short one,
 * so that the spawn falls while the runtime boots the container (tens of ms in processes of
 * its own, this process waiting), not when a short workload ends and its report, its store
 * commit and its answer are handled here (50 ms put it there for a python hello).
 */
const REFILL_DELAY_MS = 2;

/** Starts `tt-layer run …` processes (or, given `argv`, any command that reads its work from stdin), through a waiting one when there is one. */
export class Prespawner {
  private waiting: ProcessHandle | undefined;
  private refilling: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: StartOptions,
    /** The command kept waiting: `tt-layer stdin` (its arguments come on stdin), or e.g. `nft -f -`. */
    private readonly argv: string[] = [LAYER_HELPER, 'stdin'],
  ) {}

  /** A running `tt-layer` with `args` (everything after `tt-layer`), its stdio as `options` set. */
  start(args: string[]): ProcessHandle {
    const blob = Buffer.from(args.map((a) => `${a}\0`).join(''));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(blob.length);
    return this.startWith(Buffer.concat([head, blob]), false);
  }

  /** The waiting command (or a new one) given `input` on stdin, which is then closed when `end`. */
  startWith(input: Buffer | string, end: boolean): ProcessHandle {
    // One that died while waiting (killed from outside) is not used.
    if (this.waiting && (this.waiting.child.exitCode !== null || this.waiting.child.signalCode !== null)) this.waiting = undefined;
    const proc = this.waiting ?? this.spawn();
    if (this.waiting) {
      // From now on it is a sandbox's: it keeps Node alive like any other.
      proc.child.ref();
      for (const s of streams(proc)) s?.ref?.();
    }
    this.waiting = undefined;
    proc.child.stdin?.on('error', () => undefined);
    if (end) proc.child.stdin?.end(input);
    else proc.child.stdin?.write(input);
    // Not in this turn of the event loop: a spawn blocks this process for milliseconds, which the
    // start being written right now would pay. A start that finds none waiting spawns directly.
    if (!this.refilling) {
      this.refilling = setTimeout(() => {
        this.refilling = undefined;
        this.refill();
      }, REFILL_DELAY_MS);
      this.refilling.unref();
    }
    return proc;
  }

  /** Ends the waiting process (tests, shutdown); a later start spawns again. */
  close(): void {
    clearTimeout(this.refilling);
    this.refilling = undefined;
    this.waiting?.child.stdin?.end();
    this.waiting = undefined;
  }

  private refill(): void {
    if (this.waiting) return;
    const proc = this.spawn();
    this.waiting = proc;
    // Died while waiting (killed from outside): forget it.
    void proc.wait().then(() => {
      if (this.waiting === proc) this.waiting = undefined;
    });
    // A waiting process must not keep Node alive.
    proc.child.unref();
    for (const s of streams(proc)) s?.unref?.();
  }

  private spawn(): ProcessHandle {
    return startProcess(this.argv, this.options);
  }
}

type Refable = { ref?: () => void; unref?: () => void } | null;

function streams(proc: ProcessHandle): Refable[] {
  return [proc.child.stdin, proc.child.stdout, proc.child.stderr] as unknown as Refable[];
}
