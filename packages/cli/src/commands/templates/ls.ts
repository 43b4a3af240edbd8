/** `tartarus templates ls`: the built-ins and the tenant's own, whether each is built and ready. */
import { Command } from 'commander';
import type { Template } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';
import { sizeText } from './show.js';

/** Builds `tartarus templates ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list templates: where each comes from, whether it is built and ready');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).templates.list();
    if (o.json) return printJson(items);
    printTable<Template>(items, [
      { header: 'name', get: (t) => t.name },
      { header: 'built', get: (t) => (t.built ? 'yes' : 'no') },
      { header: 'source', get: (t) => t.source },
      { header: 'status', get: (t) => t.status },
      { header: 'size', get: (t) => sizeText(t.sizeBytes) },
      { header: 'built at', get: (t) => ago(t.builtAt) },
      { header: 'description', get: (t) => t.description },
    ]);
  });
}
