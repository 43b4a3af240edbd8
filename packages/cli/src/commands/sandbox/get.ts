/** `tartarus sandbox get ID`: one sandbox's state. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printObject } from '../../output.js';

/** Builds `tartarus sandbox get`. */
export function getCommand(): Command {
  const cmd = new Command('get')
    .description("show a sandbox's state")
    .argument('<id>', 'sandbox id');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const info = await (await connect(o.dataDir)).sandboxes.get(id);
    if (o.json) printJson(info);
    else printObject(info);
  });
}
