/** `tartarus network-policies rm NAME`: removes a network policy (work already started keeps its egress). */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus network-policies rm`. */
export function rmCommand(): Command {
  const cmd = new Command('rm')
    .alias('delete')
    .description('remove a network policy; needs an admin key')
    .argument('<name>', 'policy name');
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const policy = await (await connect(o.dataDir)).networkPolicies.delete(name);
    if (o.json) printJson(policy);
    else process.stdout.write(`removed network policy ${policy.name}\n`);
  });
}
