/** `tartarus keys revoke ID`: revokes an API key. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus keys revoke`. */
export function revokeCommand(): Command {
  const cmd = new Command('revoke')
    .description('revoke an API key; calls with it fail from now on')
    .argument('<id>', 'key id');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    await (await connect(o.dataDir)).apiKeys.revoke(id);
    if (o.json) printJson({ id, revoked: true });
    else process.stdout.write(`revoked ${id}\n`);
  });
}
