/** `tartarus registries ls`: registries the tenant stored credentials for (never passwords). */
import { Command } from 'commander';
import type { RegistryCredential } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

/** Builds `tartarus registries ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list registries with stored credentials');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).registries.list();
    if (o.json) return printJson(items);
    printTable<RegistryCredential>(items, [
      { header: 'registry', get: (c) => c.registry },
      { header: 'username', get: (c) => c.username },
      { header: 'updated', get: (c) => ago(c.updatedAt) },
    ]);
  });
}
