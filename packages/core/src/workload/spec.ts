/**
 * The workload spec: what one piece of work (a run, a sandbox, later a deployment replica) is,
 * with every default applied. It is made once by `compile` from an API request, kept by the store
 * as is, sent to the agent unchanged and handed field by field to the runtime. No field is
 * optional and there is no index signature: nothing downstream re-checks or re-defaults.
 */
import { z } from 'zod';
import { LimitsSchema, RuntimeNameSchema } from '../api/common.js';
import { LIFECYCLES, PRIORITIES } from './defaults.js';
import { EgressSchema } from '../network.js';

/** What placement reserves on a node for the work (not its limit). */
export const ResourceRequestsSchema = z
  .object({
    /** Cores, fractional. */
    cpu: z.number(),
    memoryMiB: z.number(),
    diskMiB: z.number(),
  })
  .meta({ id: 'ResourceRequests' });
/** Resources reserved for the work. */
export type ResourceRequests = z.infer<typeof ResourceRequestsSchema>;

/** The compiled spec. */
export const WorkloadSpecSchema = z.object({
  lifecycle: z.enum(LIFECYCLES),
  template: z.string(),
  /**
   * The image the work starts from, or null for a built-in template: a reference as the caller
   * gave it (`--image`), or pinned by digest for a tenant's template. Pulled by the node on first use.
   */
  image: z.string().nullable().default(null),
  /** Replaces the image's ENTRYPOINT (and clears its CMD); null: the image's. */
  entrypoint: z.array(z.string()).nullable().default(null),
  runtime: RuntimeNameSchema,
  /**
   * The main process: an argv array (run as is), a string (run with the template's shell), or
   * null for the template's idle process (a sandbox).
   */
  command: z.union([z.array(z.string()), z.string()]).nullable(),
  env: z.record(z.string(), z.string()),
  /** Null: the template's working directory. */
  cwd: z.string().nullable(),
  /** Null: the template's user. */
  user: z.string().nullable(),
  /** UTF-8 text written to the main process's stdin, then closed; null: none. */
  stdin: z.string().nullable(),
  limits: LimitsSchema,
  requests: ResourceRequestsSchema,
  /** `once`: wall-clock limit of the main process; `until-timeout`: life of the sandbox. ms. */
  timeoutMs: z.number().int(),
  priority: z.enum(PRIORITIES),
  /** Attempts before a run is dead-lettered; 1 for a sandbox. */
  maxAttempts: z.number().int(),
  /** Labels a node must carry to take the work. */
  nodeSelector: z.record(z.string(), z.string()),
  /** Free-form labels shown back to the caller. */
  metadata: z.record(z.string(), z.string()),
  /** What the work may reach on the network (`none`: loopback only, no interface). Specs stored before networking have `none`. */
  egress: EgressSchema.default('none'),
  /** Its ports are reachable through the proxy without a key or token (a sandbox created with `public: true`). */
  public: z.boolean().default(false),
  /** Its network group, qualified by its tenant (`<tenantId>/<name>`: never shared across tenants); null: none. */
  networkGroup: z.string().nullable().default(null),
  /** A filesystem snapshot (its content digest, on the node the work is pinned to) the sandbox's files start from; null: the template's. */
  snapshot: z.object({ id: z.string(), digest: z.string() }).nullable().default(null),
  /** A sandbox idle this long (no exec, file call or proxied connection) is hibernated, ms; null: never. */
  hibernateAfterMs: z.number().int().nullable().default(null),
});
/** A compiled workload spec. */
export type WorkloadSpec = z.infer<typeof WorkloadSpecSchema>;
