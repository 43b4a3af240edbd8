/** `tartarus sandbox egress ID POLICY`: replaces what a running sandbox may reach. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, egressFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus sandbox egress`. */
export function egressCommand(): Command {
  const cmd = new Command('egress')
    .description("replace a running sandbox's egress policy (not one created with --egress none)")
    .argument('<id>', 'sandbox id')
    .argument(
      '<policy>',
      'none, all, or destinations separated by commas (IPv4, CIDR or DNS name, each with an optional :port)',
      egressFlag,
    );
  return withJson(cmd).action(
    async (id: string, egress: ReturnType<typeof egressFlag>, _o: unknown, self: Command) => {
      const o = allOptions<{ json?: boolean }>(self);
      const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
      const info = await sandbox.setEgress(egress);
      if (o.json) printJson(info);
      else
        process.stdout.write(
          `${info.id} egress ${Array.isArray(info.egress) ? info.egress.join(',') : info.egress}\n`,
        );
    },
  );
}
