/** `GET /v1/agent/connect`: the WebSocket every agent opens (token checked by the auth hook). */
import type { WebSocket } from '@fastify/websocket';
import type { RouteModule } from './types.js';

/** Registers the agent endpoint. */
export const agentRoutes: RouteModule = (app, { hub }) => {
  app.get(
    '/v1/agent/connect',
    { websocket: true, config: { access: 'agent' }, schema: { hide: true } },
    (socket: WebSocket) => hub.accept(socket),
  );
};
