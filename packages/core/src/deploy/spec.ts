/**
 * The ZLayer V1 deployment spec as Tartarus reads it (docs/deployments.md): the field names,
 * shapes and value formats of upstream's `zlayer-spec` types, so that a spec file written for
 * ZLayer is read unchanged. Every object is strict — an unknown field is refused, as upstream's
 * `deny_unknown_fields` does — and every message says what to write instead. No defaults here:
 * the schema keeps what the file says and `compile.ts` applies the defaults once.
 *
 * Upstream fields that Tartarus cannot honour (host devices, capabilities, privileged mode,
 * storage, GPUs, WASM services, tunnels) are known but refused with the reason, unless written
 * with the value that asks for nothing (`privileged: false`, `devices: []`); `network` and `api`,
 * which only tune ZLayer's own overlay and control plane, are checked and then ignored (with a
 * warning from `parse.ts`).
 */
import { z } from 'zod';
import { parseImageRef } from '../image-ref.js';
import { parseMemoryMiB, parsePercent, parseSpecDurationMs, readEnvRef } from './units.js';

/** A strict object whose unknown-field message lists the fields it knows. */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `unknown field (known fields here: ${known})` : undefined,
  });
}

function wholeNumber(min: number, max: number, message: string) {
  return z.custom<number>(
    (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
    { error: message },
  );
}

const port = (min: 0 | 1) => wholeNumber(min, 65_535, `must be a port number, ${min} to 65535`);

const duration = z.custom<string>((v) => typeof v === 'string' && parseSpecDurationMs(v) !== null, {
  error: 'must be a duration with a unit, such as 500ms, 30s, 5m, 1h or 1m30s (at most 30 days)',
});

const percent = z.custom<number | string>((v) => parsePercent(v) !== null, {
  error: 'must be a percentage from 1 to 100, such as 70 or "70%"',
});

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

/** A scalar written where text is meant: YAML's `8080` and `true` are taken as the text they show. */
const scalarText = z.custom<string | number | boolean>(
  (v) =>
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v)),
  { error: 'must be text, a number or true/false' },
);

/** Refused with `why` unless absent or written as the value that asks for nothing. */
function unsupported(why: string, harmless: (v: unknown) => boolean = () => false) {
  return z
    .custom<unknown>((v) => v === undefined || harmless(v), {
      error: `is not supported by Tartarus: ${why}`,
    })
    .optional();
}
const isEmptyList = (v: unknown) => Array.isArray(v) && v.length === 0;
const isEmptyMap = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

const SERVICE_NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{2,62}$/;
const TEMPLATE_IMAGE = /^template:([a-z0-9][a-z0-9._-]{0,63})$/;

const imageName = z
  .string({ error: 'must be an image reference such as nginx:1.25, or template:<name>' })
  .superRefine((name, ctx) => {
    if (name.startsWith('template:')) {
      if (!TEMPLATE_IMAGE.test(name))
        ctx.addIssue({
          code: 'custom',
          message:
            'template:<name> needs a template name: lowercase letters, digits, ".", "_", "-"',
        });
      return;
    }
    try {
      parseImageRef(name);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

/** `image`: what the replicas run. `template:<name>` is a Tartarus template (built-in or the tenant's). */
export const ImageSpecSchema = strict({
  name: imageName,
  pull_policy: oneOf(['always', 'if_not_present', 'never']).optional(),
});

/** `command`: overrides of the image's ENTRYPOINT, CMD and WORKDIR. */
export const CommandSpecSchema = strict({
  entrypoint: z
    .array(z.string({ error: 'must be text' }), {
      error: 'must be a list of strings, e.g. ["/bin/sh", "-c"]',
    })
    .optional(),
  args: z
    .array(z.string({ error: 'must be text' }), {
      error: 'must be a list of strings, e.g. ["--port", "8080"]',
    })
    .optional(),
  workdir: z
    .string({ error: 'must be an absolute path' })
    .startsWith('/', { error: 'must be an absolute path (starting with /)' })
    .optional(),
});

/** `resources`: upper bounds of one replica. */
export const ResourcesSpecSchema = strict({
  cpu: z
    .custom<number>((v) => typeof v === 'number' && v >= 0.05 && v <= 64, {
      error: 'must be a number of cores from 0.05 to 64, e.g. 0.5',
    })
    .optional(),
  memory: z
    .custom<string>(
      (v) =>
        typeof v === 'string' &&
        (parseMemoryMiB(v) ?? 0) >= 16 &&
        (parseMemoryMiB(v) ?? 0) <= 262_144,
      {
        error:
          'must be a size with a binary unit from 16Mi to 256Gi, such as 512Mi or 1Gi (Ki, Mi, Gi, Ti; 512M is ambiguous)',
      },
    )
    .optional(),
  gpu: unsupported('sandboxes get no GPU'),
});

const envValue = scalarText.superRefine((v, ctx) => {
  if (typeof v !== 'string') return;
  const ref = readEnvRef(v);
  if (ref.kind === 'invalid') ctx.addIssue({ code: 'custom', message: ref.reason });
});

const overlay = strict({
  enabled: z.boolean().optional(),
  encrypted: z.boolean().optional(),
  isolated: z.boolean().optional(),
});

/** `network`: ZLayer's overlays and join policy. Checked, then ignored: Tartarus networks a deployment itself. */
export const NetworkSpecSchema = strict({
  overlays: strict({ service: overlay.optional(), global: overlay.optional() }).optional(),
  join: strict({
    mode: oneOf(['open', 'token', 'closed']).optional(),
    scope: oneOf(['service', 'global']).optional(),
  }).optional(),
});

/** One `endpoints` entry: a port the proxy binds for the service. */
export const EndpointSpecSchema = strict({
  name: z
    .string({ error: 'must be a name' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
      error: 'must be a name of letters, digits, ".", "_", "-" (at most 63)',
    }),
  protocol: oneOf(['http', 'https', 'tcp', 'udp', 'websocket']),
  port: port(1),
  target_port: port(1).optional(),
  path: z
    .string({ error: 'must be a URL path' })
    .startsWith('/', { error: 'must start with /' })
    .optional(),
  expose: oneOf(['public', 'internal']).optional(),
  stream: unsupported('the proxy has no per-endpoint stream settings'),
  tunnel: unsupported('the proxy has no tunnels; expose: public publishes an endpoint'),
});

const replicas = wholeNumber(1, 1000, 'must be a positive whole number (at most 1000)');

/** `scale`, by `mode`. */
export const ScaleSpecSchema = z.discriminatedUnion(
  'mode',
  [
    strict({
      mode: z.literal('adaptive'),
      min: replicas,
      max: replicas,
      cooldown: duration.optional(),
      targets: strict({
        cpu: percent.optional(),
        memory: percent.optional(),
        rps: wholeNumber(
          1,
          1_000_000,
          'must be a positive whole number of requests per second',
        ).optional(),
      }).optional(),
    }),
    strict({ mode: z.literal('fixed'), replicas }),
    strict({ mode: z.literal('manual') }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? 'must be one of adaptive, fixed, manual' : undefined,
  },
);

/** One `depends` entry: wait for another service before starting. */
export const DependsSpecSchema = strict({
  service: z.string({ error: 'must be the name of a service of this deployment' }),
  condition: oneOf(['started', 'healthy', 'ready']).optional(),
  timeout: duration.optional(),
  on_timeout: oneOf(['fail', 'warn', 'continue']).optional(),
});

/** `health.check`, by `type`. */
export const HealthCheckSpecSchema = z.discriminatedUnion(
  'type',
  [
    strict({ type: z.literal('tcp'), port: port(0) }),
    strict({
      type: z.literal('http'),
      url: z.string({ error: 'must be a URL such as http://localhost:8080/health' }),
      expect_status: wholeNumber(100, 599, 'must be an HTTP status code, 100 to 599').optional(),
    }),
    strict({
      type: z.literal('command'),
      command: z.string({ error: 'must be a command line' }).min(1, { error: 'must not be empty' }),
    }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? 'must be one of tcp, http, command' : undefined,
  },
);

/** `health`: when a replica counts as healthy. */
export const HealthSpecSchema = strict({
  start_grace: duration.optional(),
  interval: duration.optional(),
  timeout: duration.optional(),
  retries: wholeNumber(0, 100, 'must be a whole number from 0 to 100').optional(),
  check: HealthCheckSpecSchema,
});

/** One `init.steps` entry. */
export const InitStepSpecSchema = strict({
  id: z.string({ error: 'must be a step name' }).min(1, { error: 'must not be empty' }),
  uses: z.string({ error: 'must be an init action, e.g. init.wait_tcp' }),
  with: z
    .record(z.string(), z.unknown(), { error: "must be a mapping of the action's inputs" })
    .optional(),
  retry: wholeNumber(0, 100, 'must be a whole number from 0 to 100').optional(),
  timeout: duration.optional(),
  on_failure: oneOf(['fail', 'warn', 'continue']).optional(),
});

/** `init`: steps run in order before the main process. */
export const InitSpecSchema = strict({
  steps: z.array(InitStepSpecSchema, { error: 'must be a list of steps' }).optional(),
});

function policy<const T extends readonly [string, ...string[]]>(actions: T) {
  const ok = (a: unknown) => (actions as readonly unknown[]).includes(a);
  return z.custom<T[number] | { action?: T[number] }>(
    (v) =>
      ok(v) ||
      (typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.keys(v).every((k) => k === 'action') &&
        (!('action' in v) || ok(v.action))),
    { error: `must be one of ${actions.join(', ')} (or {action: …}, as upstream writes it)` },
  );
}

/** `errors`: what happens when init fails or the main process dies. */
export const ErrorsSpecSchema = strict({
  on_init_failure: policy(['fail', 'restart', 'backoff'] as const).optional(),
  on_panic: policy(['restart', 'shutdown', 'isolate'] as const).optional(),
});

/** `node_selector`: labels a node must have (`labels`) or should have (`prefer_labels`). */
export const NodeSelectorSpecSchema = strict({
  labels: z
    .record(z.string(), scalarText, { error: 'must be a mapping of label: value' })
    .optional(),
  prefer_labels: z
    .record(z.string(), scalarText, { error: 'must be a mapping of label: value' })
    .optional(),
});

/** One entry of `services`. */
export const ServiceSpecSchema = strict({
  rtype: oneOf(['service', 'job', 'cron']).optional(),
  schedule: z.string({ error: 'must be a cron schedule, e.g. "0 3 * * *"' }).optional(),
  image: ImageSpecSchema,
  resources: ResourcesSpecSchema.optional(),
  env: z
    .record(
      z
        .string()
        .regex(/^[^=\0]+$/, {
          error: 'an environment variable name must not be empty or contain =',
        }),
      envValue,
      { error: 'must be a mapping of NAME: value' },
    )
    .optional(),
  command: CommandSpecSchema.optional(),
  network: NetworkSpecSchema.optional(),
  endpoints: z.array(EndpointSpecSchema, { error: 'must be a list of endpoints' }).optional(),
  scale: ScaleSpecSchema.optional(),
  depends: z.array(DependsSpecSchema, { error: 'must be a list of dependencies' }).optional(),
  health: HealthSpecSchema.optional(),
  init: InitSpecSchema.optional(),
  errors: ErrorsSpecSchema.optional(),
  node_mode: oneOf(['shared', 'dedicated', 'exclusive']).optional(),
  node_selector: NodeSelectorSpecSchema.optional(),
  devices: unsupported('sandboxes never get host devices', isEmptyList),
  storage: unsupported('replicas have no persistent storage yet', isEmptyList),
  capabilities: unsupported('sandboxes never get extra Linux capabilities', isEmptyList),
  privileged: unsupported('sandboxes are never privileged', (v) => v === false),
  service_type: unsupported('only standard container services', (v) => v === 'standard'),
  wasm_http: unsupported('no WASM services'),
});

/** The whole file: `version: v1`, `deployment`, `services`. */
export const DeploymentSpecSchema = strict({
  version: z.literal('v1', { error: 'must be v1' }),
  deployment: z
    .string({ error: 'must be a name' })
    .regex(DEPLOYMENT_NAME, {
      error: 'must be 3 to 63 letters, digits and "-", starting with a letter or digit',
    }),
  services: z
    .record(
      z
        .string()
        .regex(SERVICE_NAME, {
          error:
            'a service name must be 1 to 63 lowercase letters, digits and "-", starting with a letter (it is a DNS name)',
        }),
      ServiceSpecSchema,
      {
        error: 'must be a mapping of service names to services',
      },
    )
    .refine((s) => Object.keys(s).length > 0, { error: 'must name at least one service' }),
  tunnels: unsupported('no tunnels between nodes', isEmptyMap),
  api: strict({
    enabled: z.boolean().optional(),
    bind: z.string().optional(),
    jwt_secret: z.string().optional(),
    swagger: z.boolean().optional(),
  }).optional(),
});

/** A deployment spec as written (checked, no defaults applied). */
export type DeploymentSpec = z.infer<typeof DeploymentSpecSchema>;
/** One service of a spec as written. */
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;
/** One endpoint of a spec as written. */
export type EndpointSpec = z.infer<typeof EndpointSpecSchema>;
/** A health block of a spec as written. */
export type HealthSpec = z.infer<typeof HealthSpecSchema>;
/** A scale block of a spec as written. */
export type ScaleSpec = z.infer<typeof ScaleSpecSchema>;
/** A depends entry of a spec as written. */
export type DependsSpec = z.infer<typeof DependsSpecSchema>;
