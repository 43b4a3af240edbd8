/** `tartarus webhooks update ID [--url U] [--type T…] [--enable|--disable]`: changes a webhook. */
import { Command } from 'commander';
import type { EventType, PatchWebhookRequest } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { WEBHOOK_COLUMNS } from './columns.js';
import { typeOption } from './create.js';

/** Builds `tartarus webhooks update`. */
export function updateCommand(): Command {
  const cmd = new Command('update')
    .description('change a webhook: its URL, its event types (all replaced), enabled or disabled; needs an admin key')
    .argument('<id>', 'webhook id (whk_…)')
    .option('--url <url>', 'a new URL (tried at once)')
    .option('--enable', 'deliver again, from the first event not yet delivered')
    .option('--disable', 'stop delivering');
  return withJson(typeOption(cmd, 'the event types from now on')).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ url?: string; type?: EventType[]; enable?: boolean; disable?: boolean; json?: boolean }>(self);
    if (o.enable && o.disable) throw new UsageError('give --enable or --disable, not both');
    const patch: PatchWebhookRequest = {
      ...(o.url === undefined ? {} : { url: o.url }),
      ...(o.type === undefined ? {} : { types: o.type }),
      ...(o.enable || o.disable ? { enabled: o.enable === true } : {}),
    };
    if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give --url, --type, --enable or --disable');
    const w = await (await connect(o.dataDir)).webhooks.update(id, patch);
    if (o.json) printJson(w);
    else printTable([w], WEBHOOK_COLUMNS);
  });
}
