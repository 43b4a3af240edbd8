/** `tartarus network-policies create NAME --egress POLICY`: stores a named egress policy. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, egressFlag, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { POLICY_COLUMNS } from './columns.js';

/** Builds `tartarus network-policies create`. */
export function createCommand(): Command {
  const cmd = new Command('create')
    .description('store a network policy; needs an admin key')
    .argument('<name>', 'lowercase letters, digits, ".", "_" and "-"')
    .requiredOption(
      '--egress <policy>',
      'none, all, or destinations separated by commas (IPv4, CIDR or DNS name, each with an optional :port)',
      egressFlag,
    )
    .option('--description <text>', 'what it is for');
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{
      egress: ReturnType<typeof egressFlag>;
      description?: string;
      json?: boolean;
    }>(self);
    const policy = await (
      await connect(o.dataDir)
    ).networkPolicies.create({
      name,
      egress: o.egress,
      ...(o.description === undefined ? {} : { description: o.description }),
    });
    if (o.json) printJson(policy);
    else printTable([policy], POLICY_COLUMNS);
  });
}
