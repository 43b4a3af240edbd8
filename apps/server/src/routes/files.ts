/** `/v1/sandboxes/:id/files`: read (raw bytes), write (raw body), list, remove. */
import {
  FileListResponseSchema,
  FilePathQuerySchema,
  FileRemoveQuerySchema,
  FileWriteQuerySchema,
  InvalidArgumentError,
  SandboxIdParamsSchema,
} from '@tartarus/core';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import { iso } from '../http/convert.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['files'];

/** Registers the file routes. */
export const fileRoutes: RouteModule = (app, { hub, sandboxes, ctx }) => {
  const nodeOf = async (tenantId: string, id: string) =>
    (await sandboxes.requireRunning(tenantId, id)).nodeId;

  app.get('/v1/sandboxes/:id/files', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Read a file (raw bytes)',
      params: SandboxIdParamsSchema,
      querystring: FilePathQuerySchema,
      response: { 200: z.any(), ...errorResponses },
    },
    handler: async (req, reply) => {
      const node = await nodeOf(principalOf(req).tenantId, req.params.id);
      const out = await hub.call(node, 'fileRead', {
        sandboxId: req.params.id,
        path: req.query.path,
      });
      return reply.type('application/octet-stream').send(Buffer.from(out.data, 'base64'));
    },
  });

  app.put('/v1/sandboxes/:id/files', {
    bodyLimit: ctx.config.fileLimitBytes,
    config: { access: 'member', audit: 'sandbox.file.write', bytes: true },
    schema: {
      tags,
      summary: 'Write a file (raw body, Content-Type: application/octet-stream)',
      params: SandboxIdParamsSchema,
      querystring: FileWriteQuerySchema,
      response: { 204: z.null(), ...errorResponses },
    },
    handler: async (req, reply) => {
      // Only the octet-stream parser yields a Buffer; a JSON body (even a JSON string) is refused.
      const data: unknown = req.body;
      if (!Buffer.isBuffer(data))
        throw new InvalidArgumentError(
          'send the file as the raw body with Content-Type: application/octet-stream',
        );
      const node = await nodeOf(principalOf(req).tenantId, req.params.id);
      const mode = req.query.mode === undefined ? undefined : parseInt(req.query.mode, 8);
      await hub.call(node, 'fileWrite', {
        sandboxId: req.params.id,
        path: req.query.path,
        data: data.toString('base64'),
        ...(mode === undefined ? {} : { mode }),
      });
      return reply.code(204).send(null);
    },
  });

  app.get('/v1/sandboxes/:id/files/list', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'List a directory',
      params: SandboxIdParamsSchema,
      querystring: FilePathQuerySchema,
      response: { 200: FileListResponseSchema, ...errorResponses },
    },
    handler: async (req) => {
      const node = await nodeOf(principalOf(req).tenantId, req.params.id);
      const items = await hub.call(node, 'fileList', {
        sandboxId: req.params.id,
        path: req.query.path,
      });
      return {
        items: items.map(({ modifiedAtMs, ...e }) => ({ ...e, modifiedAt: iso(modifiedAtMs) })),
      };
    },
  });

  app.delete('/v1/sandboxes/:id/files', {
    config: { access: 'member', audit: 'sandbox.file.remove' },
    schema: {
      tags,
      summary: 'Remove a file, or a directory with recursive=true',
      params: SandboxIdParamsSchema,
      querystring: FileRemoveQuerySchema,
      response: { 204: z.null(), ...errorResponses },
    },
    handler: async (req, reply) => {
      const node = await nodeOf(principalOf(req).tenantId, req.params.id);
      await hub.call(node, 'fileRemove', {
        sandboxId: req.params.id,
        path: req.query.path,
        recursive: req.query.recursive ?? false,
      });
      return reply.code(204).send(null);
    },
  });
};
