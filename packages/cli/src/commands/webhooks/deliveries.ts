/** `tartarus webhooks deliveries ID`: a webhook's delivery log, newest first. */
import { Command } from 'commander';
import type { WebhookDelivery } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, choiceFlag, positiveIntFlag, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { DELIVERY_COLUMNS } from './columns.js';

/** Builds `tartarus webhooks deliveries`. */
export function deliveriesCommand(): Command {
  const cmd = new Command('deliveries')
    .description("a webhook's delivery log, newest first: event, state, attempts, last answer or error, next attempt")
    .argument('<id>', 'webhook id (whk_…)')
    .option('--state <state>', 'only pending, succeeded or failed deliveries', choiceFlag(['pending', 'succeeded', 'failed'] as const))
    .option('--limit <n>', 'at most this many (default 50)', positiveIntFlag);
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ state?: WebhookDelivery['state']; limit?: number; json?: boolean }>(self);
    const page = await (await connect(o.dataDir)).webhooks.deliveries(id, { state: o.state, limit: o.limit });
    if (o.json) printJson(page);
    else printTable(page.items, DELIVERY_COLUMNS);
  });
}
