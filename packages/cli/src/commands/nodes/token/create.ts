/** `tartarus nodes token create NODE_ID`: a token for that node's agent, its secret printed once. */
import { Command } from 'commander';
import { connect } from '../../../connection.js';
import { allOptions, withJson } from '../../../options.js';
import { printJson } from '../../../output.js';

/** Builds `tartarus nodes token create`. */
export function createCommand(): Command {
  const cmd = new Command('create')
    .description('create an agent token bound to a node; its secret is printed once')
    .argument('<node-id>', 'the node id its agent connects as (TARTARUS_NODE_ID)');
  return withJson(cmd).action(async (nodeId: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const token = await (await connect(o.dataDir)).nodes.tokens.create(nodeId);
    if (o.json) return printJson(token);
    process.stderr.write(
      `created ${token.id} for node ${token.nodeId}; give it to that node's agent as ` +
        'TARTARUS_AGENT_TOKEN. The secret is shown only now:\n',
    );
    process.stdout.write(`${token.secret}\n`);
  });
}
