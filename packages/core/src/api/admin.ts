/** Schemas of templates, nodes and their tokens, API keys, tenants and the audit log. */
import { z } from 'zod';
import { IdSchema, ImageRefSchema, pageOf, TimestampSchema } from './common.js';
import { ROLES } from '../states.js';
import { TemplateNameSchema } from './sandboxes.js';
import { EgressSchema } from '../network.js';

// ------------------------------------------------------------------------------------ templates

/** Where a template comes from: a built-in of every node, a tenant's image, or a tenant's Dockerfile build. */
export const TemplateSourceSchema = z.enum(['builtin', 'image', 'dockerfile']);
/** Where a template comes from. */
export type TemplateSource = z.infer<typeof TemplateSourceSchema>;

/**
 * Whether a template can be used now. Built-ins are always `ready` (built on first use, see
 * `built`); a tenant's template is `pending` while it is pulled or built, `failed` when its last
 * attempt failed and no earlier build is there to use (`error` says why).
 */
export const TemplateStatusSchema = z.enum(['pending', 'ready', 'failed']);
/** Whether a template can be used now. */
export type TemplateStatus = z.infer<typeof TemplateStatusSchema>;

/** An image's own settings (its OCI config) as a template of it shows them. */
export const TemplateConfigSchema = z
  .object({
    entrypoint: z.array(z.string()),
    cmd: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    workdir: z.string(),
    user: z.string(),
    exposedPorts: z.array(z.string()),
  })
  .meta({ id: 'TemplateConfig' });
/** An image's own settings. */
export type TemplateConfig = z.infer<typeof TemplateConfigSchema>;

/** A template known to the platform: a built-in, or one of the caller's tenant. */
export const TemplateSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    /** Whether its root filesystem is ready on at least one node. */
    built: z.boolean(),
    sizeBytes: z.number().nullable(),
    digest: z.string().nullable(),
    builtAt: TimestampSchema.nullable(),
    source: TemplateSourceSchema,
    /** The image reference it was created from, or the tag a Dockerfile build is stored under; null for built-ins. */
    image: z.string().nullable(),
    /** The image's ENTRYPOINT, CMD, ENV, WORKDIR, USER and exposed ports; null for built-ins and until ready. */
    config: TemplateConfigSchema.nullable(),
    status: TemplateStatusSchema,
    /** Why the last pull or build failed (`failed` only). */
    error: z.string().nullable(),
  })
  .meta({ id: 'Template' });
/** A template. */
export type Template = z.infer<typeof TemplateSchema>;

/** GET /v1/templates response. */
export const TemplateListSchema = z
  .object({ items: z.array(TemplateSchema) })
  .meta({ id: 'TemplateList' });

/** Largest build context a Dockerfile template may send (and the store keeps for rebuilds): 32 MiB of tar. */
export const MAX_TEMPLATE_CONTEXT_BYTES = 32 * 1024 * 1024;

/** Path of the Dockerfile inside the build context: relative, no `..`. */
export const DockerfilePathSchema = z
  .string()
  .min(1, 'dockerfile must not be empty')
  .max(1024, 'dockerfile must be at most 1024 characters')
  .refine(
    (p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'),
    'dockerfile must be a path inside the build context, relative to it (e.g. Dockerfile or docker/app.Dockerfile)',
  );

/**
 * POST /v1/templates body: `{name, image}` pulls an image; `{name, dockerfile, context}` builds
 * one, `context` being a tar archive of the build context, base64 (at most 32 MiB of tar).
 */
export const CreateTemplateRequestSchema = z
  .strictObject({
    name: TemplateNameSchema,
    image: ImageRefSchema.optional(),
    dockerfile: DockerfilePathSchema.optional(),
    context: z.string().min(1, 'context must not be empty: send a tar archive, base64').optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.image === undefined) === (v.dockerfile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['image'],
        message: 'give exactly one of image (a reference to pull) or dockerfile (with its build context)',
      });
    } else if (v.dockerfile !== undefined && v.context === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['context'],
        message: 'context is required with dockerfile: a tar archive of the build context, base64',
      });
    } else if (v.image !== undefined && v.context !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['context'],
        message: 'context goes only with dockerfile: remove it, or build from a Dockerfile instead of image',
      });
    }
  })
  .meta({ id: 'CreateTemplateRequest' });
/** POST /v1/templates body. */
export type CreateTemplateRequest = z.input<typeof CreateTemplateRequestSchema>;

/** `:name` of a template. */
export const TemplateNameParamsSchema = z.strictObject({ name: TemplateNameSchema });

/** SSE `progress` event of a template build. */
export const TemplateProgressSchema = z.object({
  template: z.string(),
  phase: z.string(),
  fraction: z.number().optional(),
  message: z.string(),
  /** An image pull: layers and bytes fetched so far of the total. */
  layersDone: z.number().optional(),
  layersTotal: z.number().optional(),
  bytesDone: z.number().optional(),
  bytesTotal: z.number().optional(),
});
/** Progress of a template build. */
export type TemplateProgress = z.infer<typeof TemplateProgressSchema>;

// ---------------------------------------------------------------------------------------- nodes

/** CPU, memory, disk and sandbox slots of a node (capacity, or what its work reserves). */
export const NodeResourcesSchema = z.object({
  cpu: z.number(),
  memoryMiB: z.number(),
  /** Disk for writable layers, MiB; 0 when the node did not report it. */
  diskMiB: z.number().default(0),
  slots: z.number().int(),
});
/** Resources of a node. */
export type NodeResources = z.output<typeof NodeResourcesSchema>;

/** A node running an agent. */
export const NodeSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    runtimes: z.array(z.string()),
    labels: z.record(z.string(), z.string()),
    capacity: NodeResourcesSchema,
    used: NodeResourcesSchema,
    status: z.enum(['up', 'down']),
    /** Whether new work is placed on it: `active`; `cordoned` (none; what runs there goes on); `draining` (cordoned, and deployments move their replicas to other nodes). */
    scheduling: z.enum(['active', 'cordoned', 'draining']),
    lastHeartbeatAt: TimestampSchema,
    createdAt: TimestampSchema,
  })
  .meta({ id: 'Node' });
/** A node. */
export type Node = z.infer<typeof NodeSchema>;

/** GET /v1/nodes response. */
export const NodeListSchema = z.object({ items: z.array(NodeSchema) }).meta({ id: 'NodeList' });

// ---------------------------------------------------------------------------------- node tokens

/** A node id as an agent gives it in `hello`: 1 to 128 characters. */
export const NodeIdSchema = z
  .string()
  .min(1, 'nodeId must not be empty')
  .max(128, 'nodeId must be at most 128 characters');

/**
 * An agent token bound to one node: an agent presenting it may only connect as that node, and no
 * shared token may connect as a node that has one. Never its secret (shown once, at creation).
 */
export const NodeTokenSchema = z
  .object({
    /** `ntk_…`. */
    id: z.string(),
    nodeId: z.string(),
    createdAt: TimestampSchema,
    /** When revoked (its agent was disconnected then); null while valid. */
    revokedAt: TimestampSchema.nullable(),
  })
  .meta({ id: 'NodeToken' });
/** A node token. */
export type NodeToken = z.infer<typeof NodeTokenSchema>;

/** POST /v1/nodes/tokens body: the node the new token is for. */
export const CreateNodeTokenRequestSchema = z
  .strictObject({ nodeId: NodeIdSchema })
  .meta({ id: 'CreateNodeTokenRequest' });
/** POST /v1/nodes/tokens body. */
export type CreateNodeTokenRequest = z.input<typeof CreateNodeTokenRequestSchema>;

/** POST /v1/nodes/tokens response: the token plus its secret (`tt_node_…`), shown this once. */
export const CreatedNodeTokenSchema = NodeTokenSchema.extend({ secret: z.string() }).meta({
  id: 'CreatedNodeToken',
});
/** POST /v1/nodes/tokens response. */
export type CreatedNodeToken = z.infer<typeof CreatedNodeTokenSchema>;

/** GET /v1/nodes/tokens response, newest first, revoked ones too. */
export const NodeTokenListSchema = z
  .object({ items: z.array(NodeTokenSchema) })
  .meta({ id: 'NodeTokenList' });

// ------------------------------------------------------------------------------------- api keys

/** Roles: `admin` manages keys (and, in the bootstrap tenant, tenants), `member` runs work, `viewer` reads. */
export const RoleSchema = z.enum(ROLES, {
  error: 'role must be admin, member or viewer',
});

/** An API key (never its secret, which is shown once at creation). */
export const ApiKeySchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    role: RoleSchema,
    /** First characters of the secret, for recognising it. */
    prefix: z.string(),
    createdAt: TimestampSchema,
    lastUsedAt: TimestampSchema.nullable(),
    revokedAt: TimestampSchema.nullable(),
  })
  .meta({ id: 'ApiKey' });
/** An API key. */
export type ApiKey = z.infer<typeof ApiKeySchema>;

/** POST /v1/api-keys body. `tenantId` other than the caller's own needs an admin of the bootstrap tenant. */
export const CreateApiKeyRequestSchema = z
  .strictObject({
    name: z
      .string()
      .min(1, 'name must not be empty')
      .max(128, 'name must be at most 128 characters'),
    /** Default `member`. */
    role: RoleSchema.default('member'),
    tenantId: IdSchema.optional(),
  })
  .meta({ id: 'CreateApiKeyRequest' });
/** POST /v1/api-keys body. */
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequestSchema>;

/** POST /v1/api-keys response: the key plus its secret, shown this once. */
export const CreatedApiKeySchema = ApiKeySchema.extend({ secret: z.string() }).meta({
  id: 'CreatedApiKey',
});
/** POST /v1/api-keys response. */
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;

/** GET /v1/api-keys response. */
export const ApiKeyListSchema = z
  .object({ items: z.array(ApiKeySchema) })
  .meta({ id: 'ApiKeyList' });

// -------------------------------------------------------------------------------------- tenants

/** A tenant: the unit of isolation and quota. */
export const TenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** Most queued runs at once; a submission past it gets 429. */
    maxQueuedRuns: z.number().int(),
    /** Most live sandboxes at once. */
    maxConcurrentSandboxes: z.number().int(),
    /** Share of the cluster relative to other tenants when work waits (fair share). */
    weight: z.number(),
    /** Most work (runs and sandboxes) placed at once; null: no cap beyond capacity. */
    maxRunning: z.number().int().nullable(),
    /** The most one run or sandbox may ask for; null: only the API's bounds. */
    maxLimits: TenantMaxLimitsSchemaOut().nullable(),
    /** Bytes of run output the tenant may keep; past it, further output of its runs is dropped (flagged as truncated). */
    maxLogBytes: z.number().int(),
    /** Bytes of run output the tenant keeps now (freed as logs expire). */
    logBytes: z.number().int(),
    /** Bytes of snapshots the tenant may keep; a snapshot past it gets 429. Null: the server's `maxSnapshotBytes` (default 50 GiB). */
    maxSnapshotBytes: z.number().int().nullable(),
    /** Egress of a sandbox that asks for none; null: the platform's (`all`, within `maxEgress`). */
    defaultSandboxEgress: EgressSchema.nullable(),
    /** Egress of a run that asks for none; null: the platform's (`none`). */
    defaultRunEgress: EgressSchema.nullable(),
    /** The most any of the tenant's work may reach; more is refused with a 400 naming the entry. Null: no maximum. */
    maxEgress: EgressSchema.nullable(),
    createdAt: TimestampSchema,
  })
  .meta({ id: 'Tenant' });
/** A tenant. */
export type Tenant = z.infer<typeof TenantSchema>;

function TenantMaxLimitsSchemaOut() {
  return z.object({
    cpu: z.number().optional(),
    memoryMiB: z.number().optional(),
    pids: z.number().optional(),
    diskMiB: z.number().optional(),
    timeoutMs: z.number().optional(),
  });
}

/** Defaults of a new tenant, in one place (the store and the API both apply these). */
export const TENANT_DEFAULTS = {
  maxQueuedRuns: 1000,
  maxConcurrentSandboxes: 50,
  weight: 1,
  maxRunning: null,
  maxLimits: null,
  /** 1 GiB of kept run output. */
  maxLogBytes: 1024 * 1024 * 1024,
  /** The server's `maxSnapshotBytes`. */
  maxSnapshotBytes: null,
  /** Network: the platform's defaults (`WORKLOAD_DEFAULTS`), no maximum. */
  defaultSandboxEgress: null,
  defaultRunEgress: null,
  maxEgress: null,
} as const;

/** Largest `maxLogBytes` the API takes: 1 TiB. */
export const MAX_TENANT_LOG_BYTES = 1024 ** 4;

/** Largest `maxSnapshotBytes` the API takes: 1 PiB. */
export const MAX_TENANT_SNAPSHOT_BYTES = 1024 ** 5;

/** `maxLimits` as given: each field optional, within the API's own bounds. */
export const TenantMaxLimitsSchema = z.strictObject({
  cpu: z.number().min(0.05).max(64, 'maxLimits.cpu must be at most 64 cores').optional(),
  memoryMiB: z.number().int().min(16).max(262_144).optional(),
  pids: z.number().int().min(8).max(65_536).optional(),
  diskMiB: z.number().int().min(16).max(1_048_576).optional(),
  timeoutMs: z.number().int().min(1000).max(86_400_000).optional(),
});

const TenantFields = {
  weight: z
    .number()
    .min(0.01, 'weight must be at least 0.01')
    .max(1000, 'weight must be at most 1000'),
  maxRunning: z
    .number()
    .int('maxRunning must be a whole number')
    .min(1, 'maxRunning must be at least 1')
    .max(1_000_000)
    .nullable(),
  maxLimits: TenantMaxLimitsSchema.nullable(),
  name: z.string().min(1, 'name must not be empty').max(128, 'name must be at most 128 characters'),
  maxQueuedRuns: z.number().int().min(0).max(1_000_000, 'maxQueuedRuns must be at most 1000000'),
  maxConcurrentSandboxes: z
    .number()
    .int()
    .min(0)
    .max(100_000, 'maxConcurrentSandboxes must be at most 100000'),
  maxLogBytes: z
    .number({ error: 'maxLogBytes must be a number of bytes' })
    .int('maxLogBytes must be a whole number of bytes')
    .min(0, 'maxLogBytes must be at least 0 (0 keeps no run output)')
    .max(MAX_TENANT_LOG_BYTES, `maxLogBytes must be at most ${MAX_TENANT_LOG_BYTES} (1 TiB)`),
  /** null: back to the server's `maxSnapshotBytes`. */
  maxSnapshotBytes: z
    .number({ error: "maxSnapshotBytes must be a number of bytes, or null for the server's maxSnapshotBytes" })
    .int('maxSnapshotBytes must be a whole number of bytes')
    .min(1, "maxSnapshotBytes must be at least 1 (null: the server's maxSnapshotBytes)")
    .max(MAX_TENANT_SNAPSHOT_BYTES, `maxSnapshotBytes must be at most ${MAX_TENANT_SNAPSHOT_BYTES} (1 PiB)`)
    .nullable(),
  /** null: back to the platform's default (or no maximum). */
  egress: EgressSchema.nullable(),
};

/** POST /v1/tenants body; unset fields take `TENANT_DEFAULTS` (1000 queued runs, 50 sandboxes, weight 1, 1 GiB of logs, the server's snapshot bytes). */
export const CreateTenantRequestSchema = z
  .strictObject({
    name: TenantFields.name,
    maxQueuedRuns: TenantFields.maxQueuedRuns.optional(),
    maxConcurrentSandboxes: TenantFields.maxConcurrentSandboxes.optional(),
    weight: TenantFields.weight.optional(),
    maxRunning: TenantFields.maxRunning.optional(),
    maxLimits: TenantFields.maxLimits.optional(),
    maxLogBytes: TenantFields.maxLogBytes.optional(),
    maxSnapshotBytes: TenantFields.maxSnapshotBytes.optional(),
    defaultSandboxEgress: TenantFields.egress.optional(),
    defaultRunEgress: TenantFields.egress.optional(),
    maxEgress: TenantFields.egress.optional(),
  })
  .meta({ id: 'CreateTenantRequest' });
/** POST /v1/tenants body. */
export type CreateTenantRequest = z.input<typeof CreateTenantRequestSchema>;

/** PATCH /v1/tenants/:id body: the fields to change. */
export const PatchTenantRequestSchema = z
  .strictObject({
    name: TenantFields.name.optional(),
    maxQueuedRuns: TenantFields.maxQueuedRuns.optional(),
    maxConcurrentSandboxes: TenantFields.maxConcurrentSandboxes.optional(),
    weight: TenantFields.weight.optional(),
    maxRunning: TenantFields.maxRunning.optional(),
    maxLimits: TenantFields.maxLimits.optional(),
    maxLogBytes: TenantFields.maxLogBytes.optional(),
    maxSnapshotBytes: TenantFields.maxSnapshotBytes.optional(),
    defaultSandboxEgress: TenantFields.egress.optional(),
    defaultRunEgress: TenantFields.egress.optional(),
    maxEgress: TenantFields.egress.optional(),
  })
  .meta({ id: 'PatchTenantRequest' });
/** PATCH /v1/tenants/:id body. */
export type PatchTenantRequest = z.input<typeof PatchTenantRequestSchema>;

/** GET /v1/tenants response. */
export const TenantListSchema = z
  .object({ items: z.array(TenantSchema) })
  .meta({ id: 'TenantList' });

// ---------------------------------------------------------------------------------------- audit

/** One audit-log entry: who did what to what. */
export const AuditEntrySchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    keyId: z.string().nullable(),
    /** Dotted verb, e.g. `run.submit`, `key.revoke`. */
    action: z.string(),
    target: z.string().nullable(),
    at: TimestampSchema,
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });
/** An audit-log entry. */
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** GET /v1/audit response. */
export const AuditPageSchema = pageOf(AuditEntrySchema).meta({ id: 'AuditPage' });
