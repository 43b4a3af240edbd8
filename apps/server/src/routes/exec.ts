/**
 * `POST /v1/sandboxes/:id/exec` (JSON result, or SSE `stdout`/`stderr`/`exit` events) and the
 * interactive WebSocket `GET /v1/sandboxes/:id/exec/ws`.
 */
import type { WebSocket } from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import { ExecRequestSchema, ExecResultSchema, SandboxIdParamsSchema } from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { toErrorReply } from '../http/errors.js';
import { openSse, wantsEventStream } from '../http/sse.js';
import { runExec } from '../services/exec.js';
import { errorResponses } from './common.js';
import { execSocket } from './exec-ws.js';
import type { RouteModule } from './types.js';

const tags = ['exec'];

/** Registers the exec routes. */
export const execRoutes: RouteModule = (app, deps) => {
  const { hub, sandboxes, ctx } = deps;
  app.post('/v1/sandboxes/:id/exec', {
    config: { access: 'member', audit: 'sandbox.exec' },
    schema: {
      tags,
      summary: 'Run a command in a running sandbox (SSE with Accept: text/event-stream)',
      params: SandboxIdParamsSchema,
      body: ExecRequestSchema,
      response: { 200: ExecResultSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const tenantId = principalOf(req).tenantId;
      // Fails before a stream is opened when the sandbox is not running, so the status says so.
      const sandbox = await sandboxes.requireRunning(tenantId, req.params.id);
      if (!wantsEventStream(req)) return runExec(hub, sandbox, req.body);
      const sse = openSse(req, reply);
      // A client that leaves takes its process with it.
      let finished = false;
      const killOnLeave = (execId: string) =>
        sse.signal.addEventListener('abort', () => {
          if (finished) return;
          hub
            .call(sandbox.nodeId, 'execKill', { execId, signal: 'SIGKILL' })
            .catch(() => undefined);
        });
      try {
        const result = await runExec(hub, sandbox, req.body, {
          onOutput: (o) => sse.send(o.stream, { data: o.data, encoding: 'utf8', timeMs: o.timeMs }),
          onStarted: killOnLeave,
        });
        sse.send('exit', result);
      } catch (err) {
        sse.send('error', toErrorReply(err, ctx.config.bodyLimitBytes).body.error);
      } finally {
        finished = true;
        sse.end();
      }
      return reply;
    },
  });

  app.get(
    '/v1/sandboxes/:id/exec/ws',
    {
      websocket: true,
      config: { access: 'member', audit: 'sandbox.exec' },
      schema: {
        tags,
        summary: 'Interactive exec over WebSocket (first message: ExecRequest)',
        params: SandboxIdParamsSchema,
      },
    },
    (socket: WebSocket, req: FastifyRequest) =>
      execSocket(deps, socket, principalOf(req).tenantId, (req.params as { id: string }).id),
  );
};
