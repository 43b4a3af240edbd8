/**
 * A command running in the background, over the exec WebSocket: output arrives in the callbacks,
 * stdin can be written, and the command can be killed. `wait()` resolves with its result.
 */
import type WebSocket from 'ws';
import type { Transport } from './http.js';
import {
  CommandExitError,
  InternalError,
  UnavailableError,
  errorFromEvent,
  errorFromResponse,
} from './errors.js';
import type { ExecClientFrame, ExecServerFrame } from '@tartarus/core';
import type { ExecRequest, ExecResult } from './types.js';

/** Callbacks and credentials a handle needs. */
export interface HandleOptions {
  onStdout?: ((data: string) => void) | undefined;
  onStderr?: ((data: string) => void) | undefined;
}

/** An output chunk's text (a base64 chunk decoded as UTF-8). */
export function chunkText(out: { data: string; encoding: 'utf8' | 'base64' }): string {
  return out.encoding === 'base64' ? Buffer.from(out.data, 'base64').toString('utf8') : out.data;
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

  constructor(
    private readonly socket: WebSocket,
    options: HandleOptions,
  ) {
    this.done = new Promise<ExecResult>((resolve, reject) => {
      socket.on('message', (raw) => {
        const frame = JSON.parse(String(raw)) as ExecServerFrame;
        if (frame.type === 'output') {
          (frame.stream === 'stdout' ? options.onStdout : options.onStderr)?.(chunkText(frame));
        } else if (frame.type === 'exit') resolve(frame.result);
        else reject(errorFromEvent(frame, 'exec'));
      });
      socket.on('close', () =>
        reject(new InternalError('exec: the connection closed before the command exited')),
      );
      socket.on('error', (e) => reject(new UnavailableError(`exec: ${e.message}`, { cause: e })));
    });
    this.done.catch(() => undefined); // observed by wait(); never an unhandled rejection
  }

  /** Writes to the command's stdin. */
  sendStdin(data: string | Uint8Array): void {
    this.send(
      typeof data === 'string'
        ? { type: 'stdin', data, encoding: 'utf8' }
        : { type: 'stdin', data: Buffer.from(data).toString('base64'), encoding: 'base64' },
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

/** Opens the exec WebSocket, sends the request, and returns the handle once the server accepted it. */
export async function openExecSocket(
  transport: Transport,
  sandboxId: string,
  request: ExecRequest,
  options: HandleOptions,
): Promise<CommandHandle> {
  const url = `${transport.baseUrl.replace(/^http/, 'ws')}/v1/sandboxes/${encodeURIComponent(sandboxId)}/exec/ws`;
  // Loaded on first use: most programs (and every CLI command but one) never open a WebSocket.
  const { default: WebSocketClient } = await import('ws');
  const socket = new WebSocketClient(url, { headers: transport.authHeaders() });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', (e) =>
      reject(
        new UnavailableError(`exec: cannot connect to ${url} (${e.message})`, {
          cause: e,
          context: { url: transport.baseUrl },
        }),
      ),
    );
    socket.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          if (typeof v === 'string') headers.set(k, v);
        reject(errorFromResponse(res.statusCode ?? 500, headers, text, 'exec'));
      });
    });
  });
  const handle = new CommandHandle(socket, options);
  socket.send(JSON.stringify(request));
  return handle;
}
