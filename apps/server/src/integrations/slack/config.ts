/** The Slack integration's per-tenant config (`PUT /v1/integrations/slack/config`). */
import { EVENT_TYPES, SecretNameSchema, TemplateNameSchema } from '@tartarus/core';
import { z } from 'zod';

/** The integration's config. */
export const SlackConfigSchema = z.strictObject({
  /** Name of the tenant secret holding the Slack app's signing secret (slash commands are verified with it). */
  signingSecret: SecretNameSchema,
  /** Name of the tenant secret holding an incoming-webhook URL; notifications go there. Default none. */
  notifyWebhook: SecretNameSchema.optional(),
  /** Which events are notified (with `notifyWebhook`). Default run.finished. */
  notifyTypes: z.array(z.enum(EVENT_TYPES)).default(['run.finished']),
  /** Notify only events whose `data.state` is one of these (e.g. failed, dead). Default all. */
  notifyStates: z.array(z.string().min(1)).optional(),
  /** What `/tartarus run <command>` runs on. */
  run: z
    .strictObject({
      template: TemplateNameSchema.default('busybox'),
      timeoutMs: z.number().int().min(1000).max(3_600_000).default(300_000),
    })
    .default({ template: 'busybox', timeoutMs: 300_000 }),
});
/** The integration's config. */
export type SlackConfig = z.output<typeof SlackConfigSchema>;
