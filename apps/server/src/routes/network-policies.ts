/**
 * `/v1/network-policies`: the tenant's named egress policies. A sandbox or run names one with
 * `networkPolicy` instead of giving `egress`; its egress is resolved when the work is compiled, so
 * deleting or recreating a policy never changes work already accepted. Creating and deleting one
 * is for admins (it is a setting of the whole tenant).
 */
import {
  CreateNetworkPolicyRequestSchema,
  NetworkPolicyListSchema,
  NetworkPolicyParamsSchema,
  NetworkPolicySchema,
  type NetworkPolicy as NetworkPolicyDto,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { iso } from '../http/convert.js';
import { createNetworkPolicy } from '../services/network.js';
import type { NetworkPolicy } from '../store/index.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['network-policies'];

function policyDto(p: NetworkPolicy): NetworkPolicyDto {
  return {
    name: p.name,
    egress: p.egress,
    description: p.description,
    createdAt: iso(p.createdAt),
  };
}

/** Registers the network-policy routes. */
export const networkPolicyRoutes: RouteModule = (app, { ctx }) => {
  const { store } = ctx;
  app.get('/v1/network-policies', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: "List the tenant's network policies, by name",
      response: { 200: NetworkPolicyListSchema, ...errorResponses },
    },
    handler: async (req) => ({
      items: (await store.networkPolicies.list(principalOf(req).tenantId)).map(policyDto),
    }),
  });

  app.post('/v1/network-policies', {
    config: { access: 'admin', audit: 'network-policy.create' },
    schema: {
      tags,
      summary: 'Create a network policy (within the tenant’s maxEgress)',
      body: CreateNetworkPolicyRequestSchema,
      response: { 201: NetworkPolicySchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { name, egress, description } = req.body;
      const p = await createNetworkPolicy(store, principalOf(req).tenantId, {
        name,
        egress,
        ...(description === undefined ? {} : { description }),
      });
      req.auditTarget = p.name;
      return reply.code(201).send(policyDto(p));
    },
  });

  app.get('/v1/network-policies/:name', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Get a network policy',
      params: NetworkPolicyParamsSchema,
      response: { 200: NetworkPolicySchema, ...errorResponses },
    },
    handler: async (req) =>
      policyDto(await store.networkPolicies.get(principalOf(req).tenantId, req.params.name)),
  });

  app.delete('/v1/network-policies/:name', {
    config: { access: 'admin', audit: 'network-policy.delete' },
    schema: {
      tags,
      summary: 'Delete a network policy (work already accepted keeps its egress)',
      params: NetworkPolicyParamsSchema,
      response: { 200: NetworkPolicySchema, ...errorResponses },
    },
    handler: async (req) =>
      policyDto(await store.networkPolicies.delete(principalOf(req).tenantId, req.params.name)),
  });
};
