/** `tartarus nodes token ls`: the node tokens (never their secrets). */
import { Command } from 'commander';
import type { NodeToken } from '@tartarus/sdk';
import { connect } from '../../../connection.js';
import { allOptions, withJson } from '../../../options.js';
import { ago, printJson, printTable } from '../../../output.js';

/** Builds `tartarus nodes token ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description('list node tokens, newest first');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).nodes.tokens.list();
    if (o.json) return printJson(items);
    printTable<NodeToken>(items, [
      { header: 'id', get: (t) => t.id },
      { header: 'node', get: (t) => t.nodeId },
      { header: 'created', get: (t) => ago(t.createdAt) },
      { header: 'revoked', get: (t) => (t.revokedAt ? ago(t.revokedAt) : null) },
    ]);
  });
}
