/** Templates API: the built-ins and the tenant's own, from images and Dockerfiles. */
import type { Transport } from './http.js';
import { InternalError, errorFromEvent } from './errors.js';
import { readSse } from './sse.js';
import type { CreateTemplateRequest, Template, TemplateProgress } from './types.js';

/** Options of a call that pulls or builds: progress as it goes, and a way to stop waiting. */
export interface TemplateProgressOptions {
  /** Each progress update (phase, fraction, and layers/bytes of an image pull). */
  onProgress?: (p: TemplateProgress) => void;
  /** Stops waiting (the server finishes the work regardless). */
  signal?: AbortSignal;
}

/** Templates API. */
export class Templates {
  constructor(private readonly transport: Transport) {}

  /** Every template: the built-ins and the tenant's own, with whether each is built and ready. */
  async list(): Promise<Template[]> {
    return (await this.transport.json<{ items: Template[] }>('GET', '/v1/templates')).items;
  }

  /** One template; `NotFoundError` for a name neither built in nor the tenant's. */
  async get(name: string): Promise<Template> {
    return this.transport.json('GET', `/v1/templates/${encodeURIComponent(name)}`);
  }

  /**
   * Creates a template of the tenant: `{ name, image }` pulls an image (with the credentials
   * stored for its registry, see `client.registries`); `{ name, dockerfile, context }` builds
   * one, `context` being a tar archive of the build context, base64 (at most 32 MiB of tar).
   * Resolves once it is ready; a failed pull or build rejects with the server's typed error and
   * leaves no template behind.
   */
  async create(
    request: CreateTemplateRequest,
    options: TemplateProgressOptions = {},
  ): Promise<Template> {
    return this.stream(
      'POST',
      '/v1/templates',
      request,
      `template create of ${request.name}`,
      options,
    );
  }

  /**
   * Pulls the template's image again (a tag may have moved), or builds it again from its stored
   * context. Work started meanwhile uses the previous build; a failed rebuild keeps it.
   */
  async rebuild(name: string, options: TemplateProgressOptions = {}): Promise<Template> {
    return this.stream(
      'POST',
      `/v1/templates/${encodeURIComponent(name)}/rebuild`,
      undefined,
      `template rebuild of ${name}`,
      options,
    );
  }

  /** Deletes one of the tenant's templates (built-ins cannot be deleted). */
  async delete(name: string): Promise<void> {
    await this.transport.send('DELETE', `/v1/templates/${encodeURIComponent(name)}`);
  }

  /**
   * Builds (or rebuilds) a template, reporting progress as it goes; resolves with the built
   * template. A failed build rejects with the server's typed error.
   */
  async build(name: string, options: TemplateProgressOptions = {}): Promise<Template> {
    return this.stream(
      'POST',
      `/v1/templates/${encodeURIComponent(name)}/build`,
      undefined,
      `template build of ${name}`,
      options,
    );
  }

  /** Sends a request answered as SSE: `progress` events, then `done` (the Template) or `error`. */
  private async stream(
    method: string,
    path: string,
    body: unknown,
    what: string,
    options: TemplateProgressOptions,
  ): Promise<Template> {
    const res = await this.transport.send(method, path, {
      body,
      headers: { accept: 'text/event-stream' },
      signal: options.signal,
    });
    if (!res.body) throw new InternalError(`${what}: the server sent an empty stream`);
    for await (const ev of readSse(res.body)) {
      if (ev.event === 'progress') options.onProgress?.(ev.data as TemplateProgress);
      else if (ev.event === 'done') return ev.data as Template;
      else if (ev.event === 'error') throw errorFromEvent(ev.data, what);
    }
    throw new InternalError(`${what}: the stream ended without a result`);
  }
}
