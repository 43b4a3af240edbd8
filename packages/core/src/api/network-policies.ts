/**
 * Schemas of `/v1/network-policies` (a tenant's named egress policies, attached to sandboxes and
 * runs by name) and of `PUT /v1/sandboxes/:id/egress`.
 */
import { z } from 'zod';
import { EgressSchema } from '../network.js';
import { TimestampSchema } from './common.js';

/** Network policy names: lowercase letters, digits, `.`, `_`, `-`, ≤ 64 chars. */
export const NetworkPolicyNameSchema = z
  .string()
  .min(1, 'a network policy name must not be empty')
  .max(64, 'a network policy name is at most 64 characters')
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'network policy names use lowercase letters, digits, ".", "_" and "-"',
  );

/** POST /v1/network-policies body. */
export const CreateNetworkPolicyRequestSchema = z
  .strictObject({
    name: NetworkPolicyNameSchema,
    /** What work attached to it may reach: `none`, `all`, or an allow list; within the tenant's `maxEgress`. */
    egress: EgressSchema,
    /** Free text, ≤ 1024 characters. */
    description: z.string().max(1024, 'description must be at most 1024 characters').optional(),
  })
  .meta({ id: 'CreateNetworkPolicyRequest' });
/** POST /v1/network-policies body. */
export type CreateNetworkPolicyRequest = z.input<typeof CreateNetworkPolicyRequestSchema>;

/** A tenant's named egress policy. */
export const NetworkPolicySchema = z
  .object({
    name: z.string(),
    egress: EgressSchema,
    description: z.string(),
    createdAt: TimestampSchema,
  })
  .meta({ id: 'NetworkPolicy' });
/** A network policy. */
export type NetworkPolicy = z.infer<typeof NetworkPolicySchema>;

/** GET /v1/network-policies response. */
export const NetworkPolicyListSchema = z
  .object({ items: z.array(NetworkPolicySchema) })
  .meta({ id: 'NetworkPolicyList' });

/** `:name` of a network policy. */
export const NetworkPolicyParamsSchema = z.strictObject({ name: NetworkPolicyNameSchema });

/** PUT /v1/sandboxes/:id/egress body: the sandbox's new policy. */
export const SetSandboxEgressRequestSchema = z
  .strictObject({ egress: EgressSchema })
  .meta({ id: 'SetSandboxEgressRequest' });
/** PUT /v1/sandboxes/:id/egress body. */
export type SetSandboxEgressRequest = z.input<typeof SetSandboxEgressRequestSchema>;

/** Rejects a request giving both `egress` and `networkPolicy`. */
export function oneEgressSource(
  v: { egress?: unknown; networkPolicy?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (v.egress !== undefined && v.networkPolicy !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['networkPolicy'],
      message: 'give at most one of egress (a policy) and networkPolicy (the name of a stored one)',
    });
  }
}
