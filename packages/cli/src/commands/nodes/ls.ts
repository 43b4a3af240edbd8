/** `tartarus nodes ls`: the nodes, their runtimes, usage and liveness. */
import { Command } from 'commander';
import type { Node } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

/** Builds `tartarus nodes ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list nodes with their capacity and usage');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).nodes.list();
    if (o.json) return printJson(items);
    printTable<Node>(items, [
      { header: 'id', get: (n) => n.id },
      { header: 'name', get: (n) => n.name },
      { header: 'status', get: (n) => n.status },
      { header: 'scheduling', get: (n) => n.scheduling },
      { header: 'runtimes', get: (n) => n.runtimes.join(',') },
      { header: 'cpu', get: (n) => `${n.used.cpu}/${n.capacity.cpu}` },
      { header: 'memory MiB', get: (n) => `${n.used.memoryMiB}/${n.capacity.memoryMiB}` },
      { header: 'slots', get: (n) => `${n.used.slots}/${n.capacity.slots}` },
      { header: 'heartbeat', get: (n) => ago(n.lastHeartbeatAt) },
    ]);
  });
}
