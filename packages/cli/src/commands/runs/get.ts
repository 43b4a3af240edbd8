/** `tartarus runs get ID`: one run's state and result. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printObject } from '../../output.js';

/** Builds `tartarus runs get`. */
export function getCommand(): Command {
  const cmd = new Command('get')
    .description("show a run's state and result")
    .argument('<id>', 'run id')
    .option('--output', 'include stdout and stderr');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean; output?: boolean }>(self);
    const run = await (await connect(o.dataDir)).runs.get(id, { output: o.output });
    if (o.json) printJson(run);
    else printObject(run);
  });
}
