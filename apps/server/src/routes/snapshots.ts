/** Snapshots: take one of a sandbox, fork a sandbox, list, get and delete them (services/snapshots.ts). */
import { z } from 'zod';
import { CreateSnapshotRequestSchema, ForkSandboxRequestSchema, IdParamsSchema, SandboxIdParamsSchema, SandboxSchema, SnapshotListSchema, SnapshotSchema } from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { SnapshotService } from '../services/snapshots.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['snapshots'];

/** Registers the snapshot routes. */
export const snapshotRoutes: RouteModule = (app, { ctx, hub, sandboxes }) => {
  const snapshots = new SnapshotService(
    ctx,
    hub,
    (tenantId, req) => sandboxes.create(tenantId, req),
    (tenantId, id) => sandboxes.kill(tenantId, id),
  );
  app.post('/v1/sandboxes/:id/snapshots', {
    config: { access: 'member', audit: 'sandbox.snapshot' },
    schema: {
      tags,
      summary: "Keep a running sandbox's files (and with memory, its memory and processes) as a snapshot on its node; new sandboxes start from it with {snapshot}",
      params: SandboxIdParamsSchema,
      body: CreateSnapshotRequestSchema,
      response: { 201: SnapshotSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await snapshots.take(principalOf(req).tenantId, req.params.id, req.body.memory)),
  });

  app.post('/v1/sandboxes/:id/fork', {
    config: { access: 'member', audit: 'sandbox.fork' },
    schema: {
      tags,
      summary: 'Snapshot a sandbox and start count sandboxes from it, each independent',
      params: SandboxIdParamsSchema,
      body: ForkSandboxRequestSchema,
      response: { 201: z.object({ snapshot: SnapshotSchema, sandboxes: z.array(SandboxSchema) }), ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await snapshots.fork(principalOf(req).tenantId, req.params.id, req.body.count, req.body.memory === true)),
  });

  app.get('/v1/snapshots', {
    config: { access: 'viewer' },
    schema: { tags, summary: "The tenant's snapshots, newest first", response: { 200: SnapshotListSchema, ...errorResponses } },
    handler: async (req) => ({ items: await snapshots.list(principalOf(req).tenantId) }),
  });

  app.get('/v1/snapshots/:id', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'Get a snapshot', params: IdParamsSchema, response: { 200: SnapshotSchema, ...errorResponses } },
    handler: (req) => snapshots.get(principalOf(req).tenantId, req.params.id),
  });

  app.delete('/v1/snapshots/:id', {
    config: { access: 'member', audit: 'snapshot.delete' },
    schema: { tags, summary: 'Delete a snapshot (its files too, when no other snapshot has them)', params: IdParamsSchema, response: { 200: SnapshotSchema, ...errorResponses } },
    handler: (req) => snapshots.delete(principalOf(req).tenantId, req.params.id),
  });
};
