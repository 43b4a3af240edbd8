/**
 * The interactive exec WebSocket: the first client frame is the `ExecRequest`; later frames
 * write stdin, close it or signal the process; the server sends `output` frames and one final
 * `exit` (or `error`), then closes.
 */
import type { WebSocket } from '@fastify/websocket';
import {
  ExecClientFrameSchema,
  ExecRequestSchema,
  InvalidArgumentError,
  type ExecServerFrame,
} from '@tartarus/core';
import type { z } from 'zod';
import { toErrorReply } from '../http/errors.js';
import { runExec } from '../services/exec.js';
import type { RouteDeps } from './types.js';

/** The first issue of a failed parse, with the field it is about. */
function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** Serves one exec socket. */
export function execSocket(
  deps: RouteDeps,
  socket: WebSocket,
  tenantId: string,
  sandboxId: string,
): void {
  const { hub, sandboxes, ctx } = deps;
  const send = (f: ExecServerFrame) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(f));
  };
  const fail = (err: unknown) => {
    send({ type: 'error', error: toErrorReply(err, ctx.config.bodyLimitBytes).body.error });
    socket.close(1000);
  };
  let nodeId: string | null = null;
  let execId: string | undefined;
  const early: unknown[] = [];
  let started = false;
  let finished = false;

  const forward = (frame: unknown) => {
    const f = ExecClientFrameSchema.safeParse(frame);
    if (!f.success)
      return fail(
        new InvalidArgumentError(`bad frame: ${describe(f.error)}; send stdin, closeStdin or kill`),
      );
    if (execId === undefined) return void early.push(frame);
    const d = f.data;
    const sent =
      d.type === 'stdin'
        ? hub.call(nodeId, 'execStdin', {
            execId,
            data: d.encoding === 'base64' ? d.data : Buffer.from(d.data, 'utf8').toString('base64'),
          })
        : d.type === 'closeStdin'
          ? hub.call(nodeId, 'execCloseStdin', { execId })
          : hub.call(nodeId, 'execKill', { execId, signal: d.signal });
    sent.catch(() => undefined);
  };

  socket.on('message', (raw: Buffer) => {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return fail(new InvalidArgumentError('frames must be JSON'));
    }
    if (started) return forward(json);
    started = true;
    const req = ExecRequestSchema.safeParse(json);
    if (!req.success)
      return fail(
        new InvalidArgumentError(`the first frame must be an ExecRequest: ${describe(req.error)}`),
      );
    void (async () => {
      try {
        const sandbox = await sandboxes.requireRunning(tenantId, sandboxId);
        nodeId = sandbox.nodeId;
        const result = await runExec(hub, sandbox, req.data, {
          interactive: true,
          onOutput: (o) =>
            send({
              type: 'output',
              stream: o.stream,
              data: o.data,
              encoding: 'utf8',
              timeMs: o.timeMs,
            }),
          onStarted: (id) => {
            execId = id;
            for (const f of early.splice(0)) forward(f);
          },
        });
        finished = true;
        send({ type: 'exit', result });
        socket.close(1000);
      } catch (err) {
        fail(err);
      }
    })();
  });
  // A client that leaves takes its process with it; one that saw `exit` has nothing to kill.
  socket.on('close', () => {
    if (execId !== undefined && !finished)
      hub.call(nodeId, 'execKill', { execId, signal: 'SIGKILL' }).catch(() => undefined);
  });
}
