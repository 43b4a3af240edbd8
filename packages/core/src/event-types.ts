/** The event bus's event types, without zod (for the CLI's fast start; the schemas are in `api/events.ts`). */

/** Every event type. */
export const EVENT_TYPES = [
  'run.queued',
  'run.started',
  'run.finished',
  'sandbox.created',
  'sandbox.started',
  'sandbox.ended',
  'template.built',
  'node.up',
  'node.down',
  'webhook.disabled',
] as const;
