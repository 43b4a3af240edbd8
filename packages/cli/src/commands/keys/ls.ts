/** `tartarus keys ls`: the API keys of the caller's tenant (never their secrets). */
import { Command } from 'commander';
import type { ApiKey } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

/** Builds `tartarus keys ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description('list API keys');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).apiKeys.list();
    if (o.json) return printJson(items);
    printTable<ApiKey>(items, [
      { header: 'id', get: (k) => k.id },
      { header: 'name', get: (k) => k.name },
      { header: 'role', get: (k) => k.role },
      { header: 'prefix', get: (k) => k.prefix },
      { header: 'tenant', get: (k) => k.tenantId },
      { header: 'last used', get: (k) => ago(k.lastUsedAt) },
      { header: 'revoked', get: (k) => (k.revokedAt ? ago(k.revokedAt) : null) },
    ]);
  });
}
