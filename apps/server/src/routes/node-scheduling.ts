/**
 * Cordon, drain and uncordon a node (admins of the bootstrap tenant: a node runs every tenant's
 * work). A cordoned node takes no new work — runs and sandboxes are placed on the others — and
 * what runs there goes on; a draining one is cordoned, and deployments also move their replicas
 * off it (each started elsewhere first, then drained out of the proxy: `deployments/controller.ts`),
 * while other runs and sandboxes finish there. `GET /v1/nodes` shows what still runs on it
 * (`used.slots`). Uncordon opens it again.
 */
import { NodeIdSchema, NodeSchema } from '@tartarus/core';
import { z } from 'zod';
import { nodeDto } from '../http/convert.js';
import type { NodeScheduling } from '../store/types.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['nodes'];
const params = z.strictObject({ id: NodeIdSchema });

const VERBS: { verb: string; scheduling: NodeScheduling; summary: string }[] = [
  { verb: 'cordon', scheduling: 'cordoned', summary: 'Place no new work on a node; what runs there goes on' },
  { verb: 'drain', scheduling: 'draining', summary: "Cordon a node and move deployments' replicas off it (other work finishes there)" },
  { verb: 'uncordon', scheduling: 'active', summary: 'Place work on a node again' },
];

/** Registers `POST /v1/nodes/:id/cordon|drain|uncordon`. */
export const nodeSchedulingRoutes: RouteModule = (app, { ctx }) => {
  for (const { verb, scheduling, summary } of VERBS) {
    app.post(`/v1/nodes/:id/${verb}`, {
      config: { access: 'system', audit: `node.${verb}` },
      schema: { tags, summary, params, response: { 200: NodeSchema, ...errorResponses } },
      handler: async (req) => {
        const node = await ctx.store.nodes.setScheduling(req.params.id, scheduling);
        req.auditTarget = node.id;
        ctx.bus.nodes();
        ctx.log.info({ nodeId: node.id, scheduling }, `node ${verb}`);
        return nodeDto(node);
      },
    });
  }
};
