/** `tartarus runs cancel ID`: cancels a queued or running run. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus runs cancel`. */
export function cancelCommand(): Command {
  const cmd = new Command('cancel')
    .description('cancel a queued or running run')
    .argument('<id>', 'run id');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const run = await (await connect(o.dataDir)).runs.cancel(id);
    if (o.json) printJson(run);
    else process.stdout.write(`${run.id} ${run.state}\n`);
  });
}
