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
  'deployment.applied',
  'deployment.replica.started',
  'deployment.replica.ended',
  'deployment.replica.health',
  'deployment.dependency',
  'deployment.scaled',
  'deployment.rolled_back',
  'deployment.stopped',
] as const;

/** The event types about one deployment (`GET /v1/deployments/:name/events`); their object is the deployment's id. */
export const DEPLOYMENT_EVENT_TYPES = EVENT_TYPES.filter((t): t is Extract<(typeof EVENT_TYPES)[number], `deployment.${string}`> => t.startsWith('deployment.'));
