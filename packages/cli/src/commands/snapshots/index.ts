/** `tartarus snapshots ls|rm`: the tenant's snapshots of sandboxes. */
import { Command } from 'commander';
import type { Snapshot } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description('list snapshots, newest first');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).snapshots.list();
    if (o.json) return printJson(items);
    printTable<Snapshot>(items, [
      { header: 'id', get: (s) => s.id },
      { header: 'sandbox', get: (s) => s.sandboxId },
      { header: 'template', get: (s) => `${s.template}/${s.runtime}` },
      { header: 'node', get: (s) => s.nodeId },
      { header: 'size', get: (s) => `${s.sizeBytes}` },
      { header: 'created', get: (s) => ago(s.createdAt) },
    ]);
  });
}

function rmCommand(): Command {
  const cmd = new Command('rm').alias('delete').description('delete a snapshot').argument('<id>', 'snapshot id');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const snap = await (await connect(o.dataDir)).snapshots.delete(id);
    if (o.json) printJson(snap);
    else process.stdout.write(`deleted snapshot ${snap.id}\n`);
  });
}

/** Builds `tartarus snapshots`. */
export function snapshotsCommand(): Command {
  return new Command('snapshots').alias('snapshot').description("list and delete snapshots of sandboxes (take one with tartarus sandbox snapshot ID)").addCommand(lsCommand()).addCommand(rmCommand());
}
