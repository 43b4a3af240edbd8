/** `tartarus keys create NAME`: creates an API key and prints its secret (shown this once). */
import { Command } from 'commander';
import { ROLES } from '@tartarus/core/base';
import type { Role } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, choiceFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus keys create`. */
export function createCommand(): Command {
  const cmd = new Command('create')
    .description('create an API key; its secret is printed once')
    .argument('<name>', 'a name to recognise the key by')
    .option(
      '--role <role>',
      'admin, member or viewer (default member)',
      choiceFlag(ROLES),
    )
    .option('--tenant <id>', "tenant of the key (default the caller's)");
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ role?: Role; tenant?: string; json?: boolean }>(self);
    const key = await (
      await connect(o.dataDir)
    ).apiKeys.create({ name, role: o.role, tenantId: o.tenant });
    if (o.json) return printJson(key);
    process.stderr.write(
      `created ${key.id} (${key.role}, tenant ${key.tenantId}); the secret is shown only now:\n`,
    );
    process.stdout.write(`${key.secret}\n`);
  });
}
