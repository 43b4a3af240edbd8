/**
 * A command running in the background, over the exec WebSocket: output arrives in the callbacks,
 * stdin can be written, and the command can be killed. `wait()` resolves with its result.
 */
import { TartarusError } from '@tartarus/core/base';
import type { Transport } from './http.js';
import {
  CommandExitError,
  InternalError,
  UnavailableError,
  errorFromEvent,
} from './errors.js';
import type { ExecClientFrame, ExecServerFrame } from '@tartarus/core';
import { decodeBase64, encodeBase64, utf8 } from './base64.js';
import type { ExecSocket } from './exec-socket.js';
import { connectExecSocket } from './exec-socket-node.js';
import type { ExecRequest, ExecResult, SandboxInfo } from './types.js';

/** Callbacks and credentials a handle needs. */
export interface HandleOptions {
  onStdout?: ((data: string) => void) | undefined;
  onStderr?: ((data: string) => void) | undefined;
}

/** An output chunk's text (a base64 chunk decoded as UTF-8). */
export function chunkText(out: { data: string; encoding: 'utf8' | 'base64' }): string {
  return out.encoding === 'base64' ? utf8(decodeBase64(out.data)) : out.data;
}

/** The result, or `CommandExitError` when `check` is set and the command did not exit 0 by itself. */
export function checked(result: ExecResult, check: boolean | undefined): ExecResult {
  if (check && (result.exitCode !== 0 || result.reason !== 'exited'))
    throw new CommandExitError(result);
  return result;
}

/** A live background command. */
export class CommandHandle {
  /** Resolves with the result when the command ends; rejects if the connection fails first. */
  private readonly done: Promise<ExecResult>;

  /** Use `sandbox.commands.run(cmd, { background: true })`. */
  constructor(
    private readonly socket: ExecSocket,
    options: HandleOptions,
  ) {
    this.done = new Promise<ExecResult>((resolve, reject) => {
      socket.listen({
        message: (text) => {
          const frame = JSON.parse(text) as ExecServerFrame;
          if (frame.type === 'output') {
            (frame.stream === 'stdout' ? options.onStdout : options.onStderr)?.(chunkText(frame));
          } else if (frame.type === 'exit') resolve(frame.result);
          else reject(errorFromEvent(frame, 'exec'));
        },
        close: () =>
          reject(new InternalError('exec: the connection closed before the command exited')),
        error: (e) => reject(new UnavailableError(`exec: ${e.message}`, { cause: e })),
      });
    });
    this.done.catch(() => undefined); // observed by wait(); never an unhandled rejection
  }

  /** Writes to the command's stdin. */
  sendStdin(data: string | Uint8Array): void {
    this.send(
      typeof data === 'string'
        ? { type: 'stdin', data, encoding: 'utf8' }
        : { type: 'stdin', data: encodeBase64(data), encoding: 'base64' },
    );
  }

  /** Closes the command's stdin (EOF). */
  closeStdin(): void {
    this.send({ type: 'closeStdin' });
  }

  /** Sends a signal to the command (default SIGTERM); `wait()` then resolves with reason `killed`. */
  kill(signal: 'SIGTERM' | 'SIGKILL' | 'SIGINT' | 'SIGHUP' = 'SIGTERM'): void {
    this.send({ type: 'kill', signal });
  }

  private send(frame: ExecClientFrame): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Waits for the command to end. With `check`, a non-zero exit throws `CommandExitError`. */
  async wait(options: { check?: boolean } = {}): Promise<ExecResult> {
    try {
      return checked(await this.done, options.check);
    } finally {
      this.socket.close();
    }
  }
}

/**
 * Why a WebSocket that never opened was refused. A browser is not told (no status, no body), so
 * the same key asks for the sandbox over plain HTTP: its typed error (401, 403, 404) is the
 * answer; when that call succeeds, the original error stands.
 */
async function diagnose(transport: Transport, sandboxId: string, e: unknown): Promise<unknown> {
  if (!(e instanceof UnavailableError)) return e;
  try {
    await transport.json<SandboxInfo>('GET', `/v1/sandboxes/${encodeURIComponent(sandboxId)}`);
  } catch (why) {
    if (why instanceof TartarusError && !(why instanceof UnavailableError)) return why;
  }
  return e;
}

/**
 * Opens the exec WebSocket, sends the request, and returns the handle once the server accepted it.
 * `connect` is this environment's client (`exec-socket-node.ts`, or its browser replacement).
 */
export async function openExecSocket(
  transport: Transport,
  sandboxId: string,
  request: ExecRequest,
  options: HandleOptions,
  connect: (transport: Transport, url: string) => Promise<ExecSocket> = connectExecSocket,
): Promise<CommandHandle> {
  const url = `${transport.baseUrl.replace(/^http/, 'ws')}/v1/sandboxes/${encodeURIComponent(sandboxId)}/exec/ws`;
  let socket: ExecSocket;
  try {
    socket = await connect(transport, url);
  } catch (e) {
    throw await diagnose(transport, sandboxId, e);
  }
  const handle = new CommandHandle(socket, options);
  socket.send(JSON.stringify(request));
  return handle;
}
