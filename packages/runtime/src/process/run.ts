/**
 * The one process runner. Every external tool Tartarus runs (runc, runsc, qemu, debootstrap,
 * mount...) goes through here: argv arrays only (never a shell), a timeout and an output cap on
 * every call, and an AbortSignal. A process that outlives its timeout or its caller's abort is
 * killed with its whole process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { InternalError, TimeoutError, InvalidArgumentError } from '@tartarus/core';

/** Options of a one-shot command. */
export interface RunOptions {
  /** Kill the command after this long. Default 60 000 ms. */
  timeoutMs?: number;
  /** Bytes kept per stream; the rest is dropped (and flagged truncated). Default 1 MiB. */
  maxOutputBytes?: number;
  /** Written to stdin, then stdin is closed. Default: empty stdin. */
  stdin?: Buffer | string;
  /** Complete environment. Default: the caller's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  /** Return a non-zero exit as data instead of throwing. Default false. */
  allowNonZero?: boolean;
  /** Called with each chunk as it arrives (e.g. to show build progress). */
  onOutput?: (stream: 'stdout' | 'stderr', data: Buffer) => void;
}

/** How a command ended. */
export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT = 1 << 20;

/** Collects a stream up to a byte cap, dropping (but still draining) the rest. */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly capBytes: number) {}

  /** Appends what fits; returns the part that was kept (possibly empty). */
  push(data: Buffer): Buffer {
    const room = this.capBytes - this.size;
    if (room <= 0) {
      if (data.length > 0) this.truncated = true;
      return Buffer.alloc(0);
    }
    const kept = data.length > room ? data.subarray(0, room) : data;
    if (kept.length < data.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
    return kept;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/** Runs `argv` to completion. Throws `InternalError` on a non-zero exit (unless `allowNonZero`), `TimeoutError` on timeout. */
export async function runCommand(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const proc = startProcess(argv, {
    env: options.env,
    cwd: options.cwd,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: options.signal,
    onOutput: options.onOutput,
    stdin: 'pipe',
  });
  proc.child.stdin?.on('error', () => {
    /* the command may exit without reading its stdin */
  });
  proc.child.stdin?.end(options.stdin ?? '');
  const res = await proc.wait();
  const result: RunResult = {
    exitCode: res.exitCode,
    signal: res.signal,
    stdout: res.stdout.toString('utf8'),
    stderr: res.stderr.toString('utf8'),
    stdoutTruncated: res.stdoutTruncated,
    stderrTruncated: res.stderrTruncated,
    durationMs: performance.now() - started,
  };
  if (res.timedOut) {
    throw new TimeoutError(`${argv[0]} did not finish within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`, {
      context: { argv },
    });
  }
  if (res.aborted) throw new InternalError(`${argv[0]} was aborted`, { context: { argv } });
  if (!options.allowNonZero && result.exitCode !== 0) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n');
    throw new InternalError(
      `${argv.slice(0, 3).join(' ')} failed (${result.exitCode ?? result.signal}): ${tail}`,
      { context: { argv, exitCode: result.exitCode, stderr: result.stderr.slice(-4000) } },
    );
  }
  return result;
}

/** Options of a long-lived process. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  /** Bytes kept per stream. Default 1 MiB. Output past it is still drained (and still given to onOutput up to the cap). */
  maxOutputBytes?: number | undefined;
  /** Kill the process group after this long; 0 or undefined for none. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** `pipe` keeps stdin open for writing; `ignore` gives /dev/null. Default `ignore`. */
  stdin?: 'pipe' | 'ignore';
  /** Called with each kept chunk as it arrives. */
  onOutput?: ((stream: 'stdout' | 'stderr', data: Buffer) => void) | undefined;
  /** stdout is the caller's to read from `child.stdout` (a framed channel): nothing is captured from it. */
  rawStdout?: boolean | undefined;
  /** Signal sent on timeout/abort; the group gets SIGKILL `killGraceMs` later. Default SIGKILL at once. */
  killSignal?: NodeJS.Signals;
  killGraceMs?: number;
  /** Open file descriptors the process inherits as its fds 3, 4, … (the caller closes its own copies). */
  extraFds?: number[] | undefined;
}

/** How a started process ended. */
export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: Error;
}

/** A running process started by `startProcess`. */
export interface ProcessHandle {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** Resolves once the process exited and its output streams closed. Never rejects. */
  wait(): Promise<ProcessExit>;
  /** Signals the whole process group. No-op after exit. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `argv` in its own process group with piped stdout/stderr, capped. The caller must
 * `wait()`; the process is killed on timeout or abort.
 */
export function startProcess(argv: string[], options: StartOptions = {}): ProcessHandle {
  const [cmd, ...args] = argv;
  if (!cmd) throw new InvalidArgumentError('empty argv');
  const cap = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const out = new CappedBuffer(cap);
  const err = new CappedBuffer(cap);
  const child = spawn(cmd, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])],
    detached: true, // own process group, so a kill reaches grandchildren too
  });
  let exited = false;
  let timedOut = false;
  let aborted = false;
  let spawnError: Error | undefined;
  const timers: NodeJS.Timeout[] = [];

  const killGroup = (sig: NodeJS.Signals): void => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  const terminate = (): void => {
    const first = options.killSignal ?? 'SIGKILL';
    killGroup(first);
    if (first !== 'SIGKILL') {
      timers.push(setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 5000));
    }
  };

  if (!options.rawStdout) child.stdout?.on('data', (d: Buffer) => {
    const kept = out.push(d);
    if (kept.length) options.onOutput?.('stdout', kept);
  });
  child.stderr?.on('data', (d: Buffer) => {
    const kept = err.push(d);
    if (kept.length) options.onOutput?.('stderr', kept);
  });

  if (options.timeoutMs) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        terminate();
      }, options.timeoutMs),
    );
  }
  const onAbort = (): void => {
    aborted = true;
    terminate();
  };
  if (options.signal) {
    if (options.signal.aborted) queueMicrotask(onAbort);
    else options.signal.addEventListener('abort', onAbort, { once: true });
  }

  const done = new Promise<ProcessExit>((resolve) => {
    const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
      exited = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode: code,
        signal: sig,
        stdout: out.toBuffer(),
        stderr: err.toBuffer(),
        stdoutTruncated: out.truncated,
        stderrTruncated: err.truncated,
        timedOut,
        aborted,
        ...(spawnError ? { spawnError } : {}),
      });
    };
    child.once('error', (e) => {
      spawnError = e;
      if (child.pid === undefined) finish(null, null);
    });
    // 'close' fires after exit and after stdio streams closed: no output is lost.
    child.once('close', (code, sig) => finish(code, sig));
  });

  return {
    child,
    pid: child.pid,
    wait: () => done,
    kill: (sig: NodeJS.Signals = 'SIGTERM') => killGroup(sig),
  };
}
