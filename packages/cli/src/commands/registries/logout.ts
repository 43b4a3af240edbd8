/** `tartarus registries logout REGISTRY`: removes the tenant's credentials for a registry. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus registries logout`. */
export function logoutCommand(): Command {
  const cmd = new Command('logout')
    .description('remove the stored credentials for a registry; needs an admin key')
    .argument('<registry>', 'host[:port], as given to login');
  return withJson(cmd).action(async (registry: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    await (await connect(o.dataDir)).registries.deleteCredentials(registry);
    if (o.json) printJson({ registry, loggedOut: true });
    else process.stdout.write(`logged out of ${registry}\n`);
  });
}
