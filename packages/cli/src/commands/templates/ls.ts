/** `tartarus templates ls`: the templates and whether each is built. */
import { Command } from 'commander';
import type { Template } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

function size(bytes: number | null): string | null {
  return bytes === null ? null : `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

/** Builds `tartarus templates ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list templates and whether each is built');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).templates.list();
    if (o.json) return printJson(items);
    printTable<Template>(items, [
      { header: 'name', get: (t) => t.name },
      { header: 'built', get: (t) => (t.built ? 'yes' : 'no') },
      { header: 'size', get: (t) => size(t.sizeBytes) },
      { header: 'built at', get: (t) => ago(t.builtAt) },
      { header: 'description', get: (t) => t.description },
    ]);
  });
}
