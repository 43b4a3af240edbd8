/** `tartarus webhooks`: outbound webhooks — subscriptions, their delivery logs, redelivery and pings. */
import { Command } from 'commander';
import { createCommand } from './create.js';
import { deliveriesCommand } from './deliveries.js';
import { lsCommand } from './ls.js';
import { pingCommand, redeliverCommand } from './redeliver.js';
import { rmCommand } from './rm.js';
import { updateCommand } from './update.js';

/** Builds `tartarus webhooks`. */
export function webhooksCommand(): Command {
  return new Command('webhooks')
    .alias('webhook')
    .description('send events to your URLs, signed (Tartarus-Signature), in order, retried with backoff')
    .addCommand(lsCommand())
    .addCommand(createCommand())
    .addCommand(updateCommand())
    .addCommand(rmCommand())
    .addCommand(deliveriesCommand())
    .addCommand(redeliverCommand())
    .addCommand(pingCommand());
}
