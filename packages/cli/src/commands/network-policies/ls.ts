/** `tartarus network-policies ls`: the tenant's network policies, by name. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { POLICY_COLUMNS } from './columns.js';

/** Builds `tartarus network-policies ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description('list network policies');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).networkPolicies.list();
    if (o.json) printJson(items);
    else printTable(items, POLICY_COLUMNS);
  });
}
