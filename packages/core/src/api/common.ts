/**
 * Building blocks shared by every request and response schema of the HTTP API: errors, ids,
 * pagination, limits, environment, commands. The server validates with these and generates the
 * OpenAPI document from them; the SDK types its calls with them — one definition for both.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { RUNTIME_NAMES } from '../states.js';
import { PRIORITIES } from '../workload/defaults.js';

/** Every `ErrorCode` of `errors.ts`, as a schema. */
export const ErrorCodeSchema = z.enum(ERROR_CODES);

/** Body of every error response; the HTTP status comes from `httpStatusFor(code)`. */
export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      /** Says what to change. */
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });
/** Body of every error response. */
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** An object id as returned by the API (`sbx_…`, `run_…`, `key_…`, `ten_…`, `node_…`). */
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'ids contain only letters, digits, - and _');

/** `:id` path parameter. */
export const IdParamsSchema = z.strictObject({ id: IdSchema });

/** An instant, ISO 8601 in UTC (`2026-01-02T03:04:05.678Z`). */
export const TimestampSchema = z.string().meta({ format: 'date-time' });

/**
 * When each phase of a run's latest attempt happened (null until it has): submitted, placed on a
 * node, its template ready there (pulled or built), running, first output, ended, its sandbox
 * cleaned up. `templateReadyAt` and `firstOutputAt` are the node's clock.
 */
export const RunPhasesSchema = z
  .object({
    queuedAt: TimestampSchema,
    placedAt: TimestampSchema.nullable(),
    templateReadyAt: TimestampSchema.nullable(),
    startedAt: TimestampSchema.nullable(),
    firstOutputAt: TimestampSchema.nullable(),
    exitedAt: TimestampSchema.nullable(),
    cleanedUpAt: TimestampSchema.nullable(),
  })
  .meta({ id: 'RunPhases' });
/** A run's phase timings. */
export type RunPhases = z.infer<typeof RunPhasesSchema>;

/** When each phase of a sandbox happened (null until it has; `templateReadyAt` is the node's clock). */
export const SandboxPhasesSchema = z
  .object({
    requestedAt: TimestampSchema,
    placedAt: TimestampSchema.nullable(),
    templateReadyAt: TimestampSchema.nullable(),
    startedAt: TimestampSchema.nullable(),
    endedAt: TimestampSchema.nullable(),
    cleanedUpAt: TimestampSchema.nullable(),
  })
  .meta({ id: 'SandboxPhases' });
/** A sandbox's phase timings. */
export type SandboxPhases = z.infer<typeof SandboxPhasesSchema>;

/** Page size query value: 1..500, default 50. */
export const LimitQuerySchema = z.coerce
  .number({ error: 'limit must be a whole number from 1 to 500' })
  .int('limit must be a whole number from 1 to 500')
  .min(1, 'limit must be at least 1')
  .max(500, 'limit must be at most 500')
  .default(50);

/** Query of every listing: `limit` (1..500, default 50) and `cursor` (`nextCursor` of the previous page). */
export const PageQuerySchema = z.strictObject({
  limit: LimitQuerySchema,
  cursor: z.string().min(1).max(512).optional(),
});

/** A page of `item`; pass `nextCursor` back as `cursor` (null: this was the last page). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** A boolean given in a query string: `true`/`false`/`1`/`0`. */
export const BooleanQuerySchema = z
  .enum(['true', 'false', '1', '0'], { error: 'use true or false' })
  .transform((v) => v === 'true' || v === '1');

/** Isolation backends (see DESIGN "Isolation"). */
export const RuntimeNameSchema = z.enum(RUNTIME_NAMES, {
  error: 'runtime must be one of container, gvisor, microvm',
});
/** An isolation backend. */
export type RuntimeName = z.infer<typeof RuntimeNameSchema>;

/** Resource limits as reported (every field set). */
export const LimitsSchema = z
  .object({
    /** CPU in cores, fractional allowed. */
    cpu: z.number(),
    memoryMiB: z.number().int(),
    pids: z.number().int(),
    diskMiB: z.number().int(),
  })
  .meta({ id: 'Limits' });
/** Resource limits, every field set. */
export type Limits = z.infer<typeof LimitsSchema>;

/** Resource limits as requested; unset fields take `WORKLOAD_DEFAULTS.limits` (1 cpu, 512 MiB, 256 pids, 1024 MiB disk). */
export const LimitsInputSchema = z.strictObject({
  cpu: z
    .number()
    .min(0.05, 'limits.cpu must be at least 0.05 cores')
    .max(64, 'limits.cpu must be at most 64 cores')
    .optional(),
  memoryMiB: z
    .number()
    .int()
    .min(16, 'limits.memoryMiB must be at least 16')
    .max(262_144, 'limits.memoryMiB must be at most 262144')
    .optional(),
  pids: z
    .number()
    .int()
    .min(8, 'limits.pids must be at least 8')
    .max(65_536, 'limits.pids must be at most 65536')
    .optional(),
  diskMiB: z
    .number()
    .int()
    .min(16, 'limits.diskMiB must be at least 16')
    .max(1_048_576, 'limits.diskMiB must be at most 1048576')
    .optional(),
});

/** Environment variables: at most 256, names `[A-Za-z_][A-Za-z0-9_]*` (≤256 chars), values ≤32 KiB. */
export const EnvSchema = z
  .record(
    z
      .string()
      .max(256)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names must match [A-Za-z_][A-Za-z0-9_]*'),
    z.string().max(32_768, 'env values must be at most 32768 characters'),
  )
  .refine((e) => Object.keys(e).length <= 256, 'env may hold at most 256 variables');

/** Free-form string labels attached to an object: at most 64 keys (≤64 chars), values ≤1024 chars. */
export const MetadataSchema = z
  .record(
    z.string().min(1).max(64),
    z.string().max(1024, 'metadata values must be at most 1024 characters'),
  )
  .refine((m) => Object.keys(m).length <= 64, 'metadata may hold at most 64 keys');

/** argv form of a command: 1..4096 arguments, each ≤ 128 KiB. */
export const ArgvSchema = z
  .array(z.string().max(131_072))
  .min(1, 'argv must hold at least the program')
  .max(4096);
/** Shell-string form of a command (run with the template's shell), ≤ 128 KiB. */
export const CommandStringSchema = z.string().min(1, 'command must not be empty').max(131_072);

/** An entrypoint override: replaces the image's ENTRYPOINT (and clears its CMD); `[]` clears it. */
export const EntrypointSchema = z.array(z.string().max(131_072)).max(4096);

/** An OCI or Docker image reference: `[registry/]name[:tag][@sha256:digest]` (checked in full where it is pulled). */
export const ImageRefSchema = z
  .string()
  .min(1, 'image must not be empty')
  .max(512, 'image must be at most 512 characters')
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._:/@\[\]-]*$/, 'image must be a reference such as nginx:1.25 or registry.example.com/team/app@sha256:…');

/** A process user as Docker takes it: `name`, `uid`, `name:group`, `uid:gid`. */
export const UserSchema = z
  .string()
  .regex(
    /^([a-z_][a-z0-9_.-]{0,31}|\d{1,10})(:([a-z_][a-z0-9_.-]{0,31}|\d{1,10}))?$/i,
    'user must be a name or uid, optionally with :group or :gid (e.g. app, 1000:1000)',
  );

/** Templates every node has; they have no command of their own (a run on one must give one). */
export const BUILTIN_TEMPLATES = ['busybox', 'debian', 'python'] as const;

/**
 * Rejects a run giving both `argv` and `command`, or neither when nothing else supplies one:
 * an image (its ENTRYPOINT/CMD), a tenant's template, or an entrypoint does; a built-in template does not.
 */
export function runCommandRule(
  v: { argv?: unknown; command?: unknown; image?: unknown; entrypoint?: unknown; template?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (v.argv !== undefined && v.command !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['argv'], message: 'give exactly one of argv (an array of strings) or command (a shell string)' });
    return;
  }
  const own = v.image !== undefined || v.entrypoint !== undefined || (typeof v.template === 'string' && !(BUILTIN_TEMPLATES as readonly string[]).includes(v.template));
  if (v.argv === undefined && v.command === undefined && !own) {
    ctx.addIssue({
      code: 'custom',
      path: ['argv'],
      message: `give exactly one of argv (an array of strings) or command (a shell string): template ${String(v.template ?? 'busybox')} has no command of its own`,
    });
  }
}

/** Most stdin accepted inline in a JSON body (1 MiB of UTF-8). */
export const MAX_INLINE_STDIN = 1_048_576;

/** Rejects a body giving both or neither of `argv` and `command`. */
export function exactlyOneCommand(
  v: { argv?: unknown; command?: unknown },
  ctx: z.RefinementCtx,
): void {
  if ((v.argv === undefined) === (v.command === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['argv'],
      message: 'give exactly one of argv (an array of strings) or command (a shell string)',
    });
  }
}

/** Milliseconds given as a whole number in a range; the message names the range. */
export function durationMsSchema(name: string, minMs: number, maxMs: number) {
  return z
    .number({ error: `${name} must be a number of milliseconds` })
    .int(`${name} must be a whole number of milliseconds`)
    .min(minMs, `${name} must be at least ${minMs} ms`)
    .max(maxMs, `${name} must be at most ${maxMs} ms`);
}

/** Priority within a tenant: `critical`, `high`, `default` (the default) or `low`. */
export const PrioritySchema = z.enum(PRIORITIES, {
  error: `priority must be one of ${PRIORITIES.join(', ')}`,
});

/**
 * What placement reserves on a node (a limit is a cap, not a reservation). Unset fields take
 * `WORKLOAD_DEFAULTS.requests` (0.125 cpu, 128 MiB, 0 MiB disk), capped by the limits.
 */
export const ResourceRequestsInputSchema = z.strictObject({
  cpu: z
    .number()
    .min(0.01, 'requests.cpu must be at least 0.01 cores')
    .max(64, 'requests.cpu must be at most 64 cores')
    .optional(),
  memoryMiB: z
    .number()
    .int()
    .min(0, 'requests.memoryMiB must be at least 0')
    .max(262_144, 'requests.memoryMiB must be at most 262144')
    .optional(),
  diskMiB: z
    .number()
    .int()
    .min(0, 'requests.diskMiB must be at least 0')
    .max(1_048_576, 'requests.diskMiB must be at most 1048576')
    .optional(),
});

/** Labels a node must carry to take the work: at most 16, keys ≤ 64 chars, values ≤ 256. */
export const NodeSelectorSchema = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((m) => Object.keys(m).length <= 16, 'nodeSelector may hold at most 16 labels');
