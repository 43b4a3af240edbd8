/** `tartarus webhooks ls`: the tenant's webhooks. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { WEBHOOK_COLUMNS } from './columns.js';

/** Builds `tartarus webhooks ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description('list webhooks, oldest first');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).webhooks.list();
    if (o.json) printJson(items);
    else printTable(items, WEBHOOK_COLUMNS);
  });
}
