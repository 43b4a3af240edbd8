/**
 * `tartarus nodes cordon|drain|uncordon ID`: whether a node takes new work. `drain --wait` waits
 * until nothing runs on the node any more (deployments' replicas moved, other work finished),
 * printing what is left as it changes; `--timeout` bounds the wait (exit 1 when it passes).
 */
import { Command } from 'commander';
import type { Node } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { ExitStatus } from '../../errors.js';
import { allOptions, durationFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';

const said = (n: Node): string => `node ${n.id} ${n.scheduling} (${n.used.slots} sandbox(es) on it)\n`;

function verb(name: 'cordon' | 'uncordon', description: string): Command {
  return withJson(new Command(name).description(description).argument('<id>', 'the node id (tartarus nodes ls)')).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const n = await (await connect(o.dataDir)).nodes[name](id);
    if (o.json) printJson(n);
    else process.stdout.write(said(n));
  });
}

/** `tartarus nodes drain`. */
function drainCommand(): Command {
  const cmd = new Command('drain')
    .description("cordon a node and move deployments' replicas off it (other work finishes there)")
    .argument('<id>', 'the node id (tartarus nodes ls)')
    .option('--wait', 'wait until nothing runs on the node')
    .option('--timeout <duration>', 'how long --wait waits (default 10m)', durationFlag);
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean; wait?: boolean; timeout?: number }>(self);
    const client = await connect(o.dataDir);
    let n = await client.nodes.drain(id);
    if (!o.json) process.stdout.write(said(n));
    const deadline = Date.now() + (o.timeout ?? 600_000);
    let last = n.used.slots;
    while (o.wait && n.used.slots > 0) {
      if (Date.now() > deadline) {
        process.stderr.write(`error: node ${id} still runs ${n.used.slots} sandbox(es) after the timeout\n`);
        throw new ExitStatus(1);
      }
      await new Promise((r) => setTimeout(r, 1000));
      n = (await client.nodes.list()).find((x) => x.id === id) ?? n;
      if (n.used.slots !== last && !o.json) process.stdout.write(said(n));
      last = n.used.slots;
    }
    if (o.json) printJson(n);
  });
}

/** The scheduling verbs of `tartarus nodes`. */
export function schedulingCommands(): Command[] {
  return [verb('cordon', 'place no new work on a node (what runs there goes on)'), drainCommand(), verb('uncordon', 'place work on a node again')];
}
