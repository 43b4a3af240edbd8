/**
 * Node tokens (admins of the bootstrap tenant only: a node runs every tenant's work). A token is
 * bound to one node id; its secret is returned once, at creation. Revoking a token disconnects
 * the agent using it at once (on this replica; the sweeper of every other replica within a sweep).
 */
import {
  CreatedNodeTokenSchema,
  CreateNodeTokenRequestSchema,
  IdParamsSchema,
  NodeTokenListSchema,
} from '@tartarus/core';
import { z } from 'zod';
import { nodeTokenDto } from '../http/convert.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['nodes'];

/** Registers `/v1/nodes/tokens`. */
export const nodeTokenRoutes: RouteModule = (app, { ctx, hub }) => {
  const { store } = ctx;
  app.post('/v1/nodes/tokens', {
    config: { access: 'system', audit: 'node.token.create' },
    schema: {
      tags,
      summary: 'Create an agent token bound to one node; the secret is returned this once',
      body: CreateNodeTokenRequestSchema,
      response: { 201: CreatedNodeTokenSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { token, secret } = await store.nodeTokens.create(req.body.nodeId);
      req.auditTarget = token.id;
      return reply.code(201).send({ ...nodeTokenDto(token), secret });
    },
  });

  app.get('/v1/nodes/tokens', {
    config: { access: 'system' },
    schema: {
      tags,
      summary: 'List node tokens (never their secrets), newest first',
      response: { 200: NodeTokenListSchema, ...errorResponses },
    },
    handler: async () => ({ items: (await store.nodeTokens.list()).map(nodeTokenDto) }),
  });

  app.delete('/v1/nodes/tokens/:id', {
    config: { access: 'system', audit: 'node.token.revoke' },
    schema: {
      tags,
      summary: 'Revoke a node token; the agent using it is disconnected',
      params: IdParamsSchema,
      response: { 204: z.null(), ...errorResponses },
    },
    handler: async (req, reply) => {
      await store.nodeTokens.revoke(req.params.id);
      hub.dropToken(req.params.id);
      return reply.code(204).send(null);
    },
  });
};
