/** `tartarus nodes token revoke ID`: revokes a node token and disconnects its agent. */
import { Command } from 'commander';
import { connect } from '../../../connection.js';
import { allOptions, withJson } from '../../../options.js';
import { printJson } from '../../../output.js';

/** Builds `tartarus nodes token revoke`. */
export function revokeCommand(): Command {
  const cmd = new Command('revoke')
    .description('revoke a node token; its agent is disconnected and cannot connect with it again')
    .argument('<id>', 'token id (ntk_…)');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    await (await connect(o.dataDir)).nodes.tokens.revoke(id);
    if (o.json) printJson({ id, revoked: true });
    else process.stdout.write(`revoked ${id}\n`);
  });
}
