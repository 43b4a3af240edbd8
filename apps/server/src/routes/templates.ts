/** `/v1/templates`: list, build (SSE `progress` then `done`/`error`, or JSON when not streaming). */
import {
  TemplateListSchema,
  TemplateNameParamsSchema,
  TemplateSchema,
  type Template,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { isoOrNull } from '../http/convert.js';
import { toErrorReply } from '../http/errors.js';
import { openSse, wantsEventStream } from '../http/sse.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['templates'];

/** A template as the agent reports it. */
interface WireTemplate {
  name: string;
  description: string;
  built: boolean;
  sizeBytes?: number;
  digest?: string;
  builtAtMs?: number;
}

function templateDto(t: WireTemplate): Template {
  return {
    name: t.name,
    description: t.description,
    built: t.built,
    sizeBytes: t.sizeBytes ?? null,
    digest: t.digest ?? null,
    builtAt: isoOrNull(t.builtAtMs),
  };
}

/** Registers the template routes. */
export const templateRoutes: RouteModule = (app, { hub, ctx }) => {
  app.get('/v1/templates', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'List templates',
      response: { 200: TemplateListSchema, ...errorResponses },
    },
    handler: async () => {
      const items = (await hub.any().request({ op: 'listTemplates' })) as WireTemplate[];
      return { items: items.map(templateDto) };
    },
  });

  app.post('/v1/templates/:name/build', {
    config: { access: 'member', audit: 'template.build' },
    schema: {
      tags,
      summary: 'Build a template (SSE progress with Accept: text/event-stream)',
      params: TemplateNameParamsSchema,
      response: { 200: TemplateSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      principalOf(req);
      const conn = hub.any();
      const build = (onEvent?: (e: string, d: unknown) => void) =>
        conn.request(
          { op: 'buildTemplate', name: req.params.name },
          { timeoutMs: 3_600_000, ...(onEvent ? { onEvent } : {}) },
        );
      if (!wantsEventStream(req)) return templateDto((await build()) as WireTemplate);
      const sse = openSse(req, reply);
      try {
        const t = await build((event, data) => event === 'progress' && sse.send('progress', data));
        sse.send('done', templateDto(t as WireTemplate));
      } catch (err) {
        sse.send('error', toErrorReply(err, ctx.config.bodyLimitBytes).body.error);
      } finally {
        sse.end();
      }
      return reply;
    },
  });
};
