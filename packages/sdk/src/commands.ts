/**
 * `sandbox.commands`: run a command in a running sandbox. In the foreground the output streams
 * over SSE into the callbacks and the call resolves with the result; with `background: true` it
 * returns a `CommandHandle` (a WebSocket) that can take stdin and be killed.
 */
import type { HttpResponse, Transport } from './http.js';
import { InternalError, errorFromEvent } from './errors.js';
import { readSse } from './sse.js';
import { CommandHandle, checked, chunkText, openExecSocket } from './command-handle.js';
import type { ExecRequest, ExecResult, OutputData } from './types.js';

/** How long a command's stream may stay open after its `exit` event before it is cut, ms. */
const STREAM_END_WAIT_MS = 1000;

/** The outcome of a command: exit code (null when killed), reason, output, duration. */
export type CommandResult = ExecResult;

/** Options of `commands.run`. */
export interface CommandOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Absolute working directory; default the template's. */
  cwd?: string;
  /** `name`, `uid` or `uid:gid`; default the template's user. */
  user?: string;
  /** Kill the command after this many ms; 0 for none. Server default 60 000. */
  timeoutMs?: number;
  /** Text written to stdin, then closed (≤ 1 MiB). */
  stdin?: string;
  /** Called with each chunk of stdout as it arrives (UTF-8 text). */
  onStdout?: (data: string) => void;
  /** Called with each chunk of stderr as it arrives (UTF-8 text). */
  onStderr?: (data: string) => void;
  /** Throw `CommandExitError` when the command does not exit 0. Default false: the exit is data. */
  check?: boolean;
  /** Aborts the call (the stream is closed). */
  signal?: AbortSignal;
}

/** Builds the exec body: a string runs with the template's shell, an array is an argv. */
function execRequest(
  cmd: string | string[],
  options: Omit<CommandOptions, 'onStdout' | 'onStderr' | 'check' | 'signal'>,
): ExecRequest {
  const body: ExecRequest = typeof cmd === 'string' ? { command: cmd } : { argv: cmd };
  if (options.env) body.env = options.env;
  if (options.cwd) body.cwd = options.cwd;
  if (options.user) body.user = options.user;
  if (options.timeoutMs !== undefined) body.timeoutMs = options.timeoutMs;
  if (options.stdin !== undefined) body.stdin = options.stdin;
  return body;
}

/** Runs commands in one sandbox. */
export class Commands {
  constructor(
    private readonly transport: Transport,
    private readonly sandboxId: string,
  ) {}

  /** Starts the command in the background; the handle streams output, takes stdin, and can kill it. */
  run(
    cmd: string | string[],
    options: CommandOptions & { background: true },
  ): Promise<CommandHandle>;
  /** Runs the command to completion, streaming its output to the callbacks. */
  run(
    cmd: string | string[],
    options?: CommandOptions & { background?: false },
  ): Promise<CommandResult>;
  async run(
    cmd: string | string[],
    options: CommandOptions & { background?: boolean } = {},
  ): Promise<CommandResult | CommandHandle> {
    if (options.background)
      return openExecSocket(this.transport, this.sandboxId, execRequest(cmd, options), options);
    const res = await this.transport.send(
      'POST',
      `/v1/sandboxes/${encodeURIComponent(this.sandboxId)}/exec`,
      {
        body: execRequest(cmd, options),
        headers: { accept: 'text/event-stream' },
        signal: options.signal,
      },
    );
    return checked(await this.consume(res, options), options.check);
  }

  private async consume(res: HttpResponse, options: CommandOptions): Promise<CommandResult> {
    if (!res.headers.get('content-type')?.includes('text/event-stream')) {
      // A server may answer with the JSON result when it does not stream.
      const result = (await res.json()) as CommandResult;
      if (result.stdout) options.onStdout?.(result.stdout);
      if (result.stderr) options.onStderr?.(result.stderr);
      return result;
    }
    const body = res.body;
    if (!body) throw new InternalError('exec: the server sent an empty stream');
    // After `exit` the stream is read to its end (the server ends it at once), so that its
    // connection is kept for the next call instead of closed; one left open is cut after a moment.
    let exit: CommandResult | undefined;
    let cut: ReturnType<typeof setTimeout> | undefined;
    try {
      for await (const ev of readSse(body)) {
        if (ev.event === 'stdout') options.onStdout?.(chunkText(ev.data as OutputData));
        else if (ev.event === 'stderr') options.onStderr?.(chunkText(ev.data as OutputData));
        else if (ev.event === 'error') throw errorFromEvent(ev.data, 'exec');
        else if (ev.event === 'exit' && exit === undefined) {
          exit = ev.data as CommandResult;
          const destroy = (body as { destroy?: () => void }).destroy;
          if (typeof destroy !== 'function') return exit;
          cut = setTimeout(() => destroy.call(body), STREAM_END_WAIT_MS);
        }
      }
    } catch (err) {
      if (exit === undefined) throw err;
    } finally {
      clearTimeout(cut);
    }
    if (exit !== undefined) return exit;
    throw new InternalError('exec: the stream ended before the command exited');
  }
}
