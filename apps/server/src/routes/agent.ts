/** `GET /v1/agent/connect`: the WebSocket every agent opens (token checked by the auth hook). */
import type { WebSocket } from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import type { RouteModule } from './types.js';

/** Registers the agent endpoint. */
export const agentRoutes: RouteModule = (app, { hub }) => {
  app.get(
    '/v1/agent/connect',
    { websocket: true, config: { access: 'agent' }, schema: { hide: true } },
    (socket: WebSocket, req: FastifyRequest) => {
      // The auth hook always sets it on this route; fail closed if that ever changes.
      if (req.agentAuth === undefined) return socket.close(1008, 'agent token not checked');
      hub.accept(socket, req.agentAuth);
    },
  );
};
