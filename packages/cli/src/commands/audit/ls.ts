/** `tartarus audit ls`: the audit log, newest first. */
import { Command } from 'commander';
import type { AuditEntry } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, positiveIntFlag, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

/** Builds `tartarus audit ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list audit-log entries (who did what to what), newest first')
    .option('--limit <n>', 'at most this many (default 50)', positiveIntFlag);
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ limit?: number; json?: boolean }>(self);
    const page = await (await connect(o.dataDir)).audit.list({ limit: o.limit });
    if (o.json) return printJson(page);
    printTable<AuditEntry>(page.items, [
      { header: 'at', get: (e) => ago(e.at) },
      { header: 'action', get: (e) => e.action },
      { header: 'target', get: (e) => e.target },
      { header: 'key', get: (e) => e.keyId },
      { header: 'tenant', get: (e) => e.tenantId },
    ]);
  });
}
