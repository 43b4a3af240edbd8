/** `tartarus tenants get ID`: one tenant. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { TENANT_COLUMNS } from './ls.js';

/** Builds `tartarus tenants get`. */
export function getCommand(): Command {
  const cmd = new Command('get').description('show a tenant').argument('<id>', 'tenant id');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const tenant = await (await connect(o.dataDir)).tenants.get(id);
    if (o.json) printJson(tenant);
    else printTable([tenant], TENANT_COLUMNS);
  });
}
