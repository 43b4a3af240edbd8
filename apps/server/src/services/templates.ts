/**
 * Templates as the API sees them: the built-ins every node has (listed by an agent) and each
 * tenant's own, pulled from a registry (`pullImage`, with the tenant's login for that registry)
 * or built from a Dockerfile (`buildImage`, with all its logins, stored on the node under
 * `tartarus.local/<tenant>/<name>:latest`). Work on a tenant's template runs its image pinned by
 * digest (`pin`), so a later rebuild never changes what an accepted run starts from.
 *
 * A create claims the name (`pending`) before anything is pulled, so two creates of one name
 * conflict. A failed create leaves nothing: the claim is removed and the name is free again. A
 * failed rebuild keeps the last good build in use (still `ready`); only a template that never
 * became ready is left `failed`, with its error, for `get` to show.
 */
import {
  BUILTIN_TEMPLATES,
  ConflictError,
  InvalidArgumentError,
  LOCAL_IMAGE_REGISTRY,
  MAX_TEMPLATE_CONTEXT_BYTES,
  NotFoundError,
  parseImageRef,
  pinned,
  TartarusError,
  type CreateTemplateRequest,
  type ImageReport,
  type Template,
  type TemplateProgress,
  type TemplateReport,
  type WorkloadSpec,
} from '@tartarus/core';
import type { AgentCaller } from '../agents/hub.js';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { isoOrNull } from '../http/convert.js';
import type { CreateTemplateOptions, TenantTemplate } from '../store/index.js';
import { normalizeTarPath, tarPaths } from './tar-paths.js';

/** Longest a pull or build may take, ms (an agent call's deadline). */
const IMAGE_TIMEOUT_MS = 3_600_000;
/** Registry a Dockerfile build's image is stored under, on the node that built it. */
export const LOCAL_REGISTRY = LOCAL_IMAGE_REGISTRY;

/** Receives progress of a pull or build. */
export type ProgressSink = (p: TemplateProgress) => void;
/** Accepted work that pulls or builds; run it (optionally streaming progress) for the template. */
export type TemplateJob = (onProgress?: ProgressSink) => Promise<Template>;

/** Whether `name` is a built-in template. */
export function isBuiltin(name: string): boolean {
  return (BUILTIN_TEMPLATES as readonly string[]).includes(name);
}

/** A built-in as the API shows it. */
export function builtinDto(t: TemplateReport): Template {
  return {
    name: t.name,
    description: t.description,
    built: t.built,
    sizeBytes: t.sizeBytes ?? null,
    digest: t.digest ?? null,
    builtAt: isoOrNull(t.builtAtMs),
    source: 'builtin',
    image: null,
    config: null,
    status: 'ready',
    error: null,
  };
}

/** A tenant's template as the API shows it. */
export function templateDto(t: TenantTemplate): Template {
  return {
    name: t.name,
    description: t.source === 'image' ? `image ${t.image}` : `Dockerfile ${t.dockerfile ?? ''}`,
    built: t.digest !== null,
    sizeBytes: t.sizeBytes,
    digest: t.digest,
    builtAt: isoOrNull(t.builtAt),
    source: t.source,
    image: t.image,
    config: t.config,
    status: t.status,
    error: t.error,
  };
}

/** The build context of a create: base64 decoded, size-checked, its Dockerfile present. */
function decodeContext(base64: string, dockerfile: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0)
    throw new InvalidArgumentError(
      'context is not base64: send the tar archive of the build context, base64-encoded (standard alphabet, padded)',
    );
  const context = Buffer.from(base64, 'base64');
  if (context.length > MAX_TEMPLATE_CONTEXT_BYTES)
    throw new TartarusError(
      'payload_too_large',
      `the build context is ${context.length} bytes, more than the limit of ${MAX_TEMPLATE_CONTEXT_BYTES}: leave out what the build does not need (a .dockerignore'd tree, caches, build outputs)`,
    );
  const want = normalizeTarPath(dockerfile);
  if (!tarPaths(context).includes(want))
    throw new InvalidArgumentError(
      `the build context has no file ${dockerfile}: give dockerfile as its path inside the context (e.g. Dockerfile)`,
      { context: { dockerfile } },
    );
  return context;
}

/** Template operations of one server. */
export class TemplateService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  /** The built-ins (from an agent; unbuilt placeholders when none is connected) and the tenant's own. */
  async list(tenantId: string): Promise<Template[]> {
    const own = (await this.ctx.store.templates.list(tenantId)).map(templateDto);
    return [...(await this.builtins()), ...own];
  }

  /** One template. NotFoundError for a name neither built in nor the tenant's. */
  async get(tenantId: string, name: string): Promise<Template> {
    if (isBuiltin(name)) {
      const found = (await this.builtins()).find((t) => t.name === name);
      if (found) return found;
    }
    return templateDto(await this.ctx.store.templates.get(tenantId, name));
  }

  /** Whether the tenant has its own template `name`. */
  async owns(tenantId: string, name: string): Promise<boolean> {
    return (await this.ctx.store.templates.find(tenantId, name)) !== null;
  }

  /**
   * Checks a create and claims its name; the returned job pulls or builds. Every mistake of the
   * request (name taken or built in, bad reference, bad context) is thrown here, before the job.
   */
  async beginCreate(tenantId: string, req: CreateTemplateRequest): Promise<TemplateJob> {
    const { store } = this.ctx;
    if (isBuiltin(req.name))
      throw new ConflictError(`"${req.name}" is a built-in template: choose another name`, {
        context: { template: req.name },
      });
    const claim = this.claimOf(tenantId, req);
    const conn = await this.hub.any();
    await store.templates.create(tenantId, claim);
    return async (onProgress) => {
      try {
        return await this.produce(tenantId, req.name, conn, req.context, onProgress);
      } catch (err) {
        await store.templates.delete(tenantId, req.name).catch(() => undefined);
        throw err;
      }
    };
  }

  /** Checks a rebuild (re-pull, or build again from the stored context); the job does it. */
  async beginRebuild(tenantId: string, name: string): Promise<TemplateJob> {
    const { store } = this.ctx;
    if (isBuiltin(name))
      throw new InvalidArgumentError(
        `"${name}" is a built-in template: build it with POST /v1/templates/${name}/build`,
      );
    const before = await store.templates.get(tenantId, name);
    const conn = await this.hub.any();
    await store.templates.markPending(tenantId, name);
    return async (onProgress) => {
      try {
        return await this.produce(tenantId, name, conn, undefined, onProgress);
      } catch (err) {
        // The last good build stays in use; a template that never had one shows why it failed.
        if (before.digest === null)
          await store.templates
            .markFailed(tenantId, name, (err as Error).message)
            .catch(() => undefined);
        throw err;
      }
    };
  }

  /** Deletes one of the tenant's templates. A built-in: 400; another tenant's or none: 404. */
  async delete(tenantId: string, name: string): Promise<Template> {
    if (isBuiltin(name))
      throw new InvalidArgumentError(
        `"${name}" is a built-in template; built-in templates cannot be deleted`,
      );
    return templateDto(await this.ctx.store.templates.delete(tenantId, name));
  }

  /**
   * The spec with a tenant's template resolved: `image` set to its image pinned by digest, the
   * template name kept. Built-ins and image specs are returned unchanged. An unknown name is a
   * 400 listing the names there are; a template not ready is a 409.
   */
  async pin(tenantId: string, spec: WorkloadSpec): Promise<WorkloadSpec> {
    if (spec.image !== null || isBuiltin(spec.template)) return spec;
    const { store } = this.ctx;
    const t = await store.templates.find(tenantId, spec.template);
    if (t === null) {
      const names = [
        ...BUILTIN_TEMPLATES,
        ...(await store.templates.list(tenantId)).map((x) => x.name),
      ];
      throw new InvalidArgumentError(
        `unknown template "${spec.template}": use one of ${names.join(', ')}`,
        {
          context: { template: spec.template },
        },
      );
    }
    if (t.status !== 'ready' || t.digest === null) {
      const why =
        t.status === 'failed'
          ? `failed (${t.error ?? 'no reason recorded'}): rebuild or delete it`
          : 'still being pulled or built: wait until it is ready';
      throw new ConflictError(`template "${t.name}" is ${why}`, {
        context: { template: t.name, status: t.status },
      });
    }
    return { ...spec, image: pinned(parseImageRef(t.image), t.digest) };
  }

  /** Pulls or builds the claimed template on `conn`'s node and records the result. */
  private async produce(
    tenantId: string,
    name: string,
    conn: AgentCaller,
    contextBase64: string | undefined,
    onProgress: ProgressSink | undefined,
  ): Promise<Template> {
    const { store } = this.ctx;
    const t = await store.templates.get(tenantId, name);
    const options = {
      timeoutMs: IMAGE_TIMEOUT_MS,
      ...(onProgress
        ? { onEvent: (e: { data: TemplateProgress }) => onProgress({ ...e.data, template: name }) }
        : {}),
    };
    let report: ImageReport;
    if (t.source === 'image') {
      const auth = await store.registryCredentials.login(tenantId, parseImageRef(t.image).registry);
      report = await conn.call('pullImage', { ref: t.image, ...(auth ? { auth } : {}) }, options);
    } else {
      const context =
        contextBase64 ?? (await store.templates.context(tenantId, name))?.toString('base64');
      if (context === undefined || t.dockerfile === null)
        throw new NotFoundError(
          `template "${name}" has no build context to rebuild from: delete and create it again`,
        );
      const auth = await store.registryCredentials.logins(tenantId);
      report = await conn.call(
        'buildImage',
        { tag: t.image, dockerfile: t.dockerfile, context, auth },
        options,
      );
    }
    const ready = await store.templates.markReady(tenantId, name, {
      digest: report.digest,
      sizeBytes: report.sizeBytes,
      config: report.config,
    });
    return templateDto(ready);
  }

  /** What a create stores, its reference or build context checked. */
  private claimOf(tenantId: string, req: CreateTemplateRequest): CreateTemplateOptions {
    if (req.image !== undefined) {
      parseImageRef(req.image);
      return { name: req.name, source: 'image', image: req.image };
    }
    const dockerfile = req.dockerfile ?? '';
    return {
      name: req.name,
      source: 'dockerfile',
      image: this.buildTag(tenantId, req.name),
      dockerfile,
      context: decodeContext(req.context ?? '', dockerfile),
    };
  }

  /** The tag a Dockerfile template of `tenantId` is built under; 400 when the name cannot be one. */
  private buildTag(tenantId: string, name: string): string {
    const tag = `${LOCAL_REGISTRY}/${tenantId}/${name}:latest`;
    try {
      parseImageRef(tag);
    } catch {
      throw new InvalidArgumentError(
        `template name "${name}" cannot name an image: use lowercase letters and digits separated by single ".", "_" or "-"`,
      );
    }
    return tag;
  }

  private async builtins(): Promise<Template[]> {
    if (!(await this.hub.reachesAgents()))
      return BUILTIN_TEMPLATES.map((name) => builtinDto({ name, description: '', built: false }));
    const items = await (await this.hub.any()).call('listTemplates', {});
    return items.filter((t) => isBuiltin(t.name)).map(builtinDto);
  }
}
