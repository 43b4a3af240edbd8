/** `/v1/templates`: list, build (SSE `progress` then `done`/`error`, or JSON when not streaming). */
import {
  TemplateListSchema,
  TemplateNameParamsSchema,
  TemplateSchema,
  type Template,
  type TemplateProgress,
  type TemplateReport,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { isoOrNull } from '../http/convert.js';
import { toErrorReply } from '../http/errors.js';
import { openSse, wantsEventStream } from '../http/sse.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['templates'];

function templateDto(t: TemplateReport): Template {
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
      const items = await hub.any().call('listTemplates', {});
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
      const build = (onProgress?: (p: TemplateProgress) => void) =>
        conn.call(
          'buildTemplate',
          { name: req.params.name },
          { timeoutMs: 3_600_000, ...(onProgress ? { onEvent: (e) => onProgress(e.data) } : {}) },
        );
      if (!wantsEventStream(req)) return templateDto(await build());
      const sse = openSse(req, reply);
      try {
        const t = await build((p) => sse.send('progress', p));
        sse.send('done', templateDto(t));
      } catch (err) {
        sse.send('error', toErrorReply(err, ctx.config.bodyLimitBytes).body.error);
      } finally {
        sse.end();
      }
      return reply;
    },
  });
};
