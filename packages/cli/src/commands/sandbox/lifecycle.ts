/**
 * `tartarus sandbox pause|resume|kill ID`: the state changes that take only an id. One builder for
 * the three so they print and fail alike.
 */
import { Command } from 'commander';
import type { Sandbox } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds a command that applies `act` to the sandbox named by its argument and prints the new state. */
export function lifecycleCommand(
  name: string,
  description: string,
  act: (s: Sandbox) => Promise<unknown>,
): Command {
  const cmd = new Command(name).description(description).argument('<id>', 'sandbox id');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
    await act(sandbox);
    await sandbox.getInfo().catch(() => undefined); // a DELETE may answer 204; show the state it settled in
    if (o.json) printJson(sandbox.info);
    else process.stdout.write(`${sandbox.id} ${sandbox.info.state}${sandbox.info.hibernatedAt ? ' (hibernated)' : ''}\n`);
  });
}
