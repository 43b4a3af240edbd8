/** `tartarus runs get ID`: one run's state, result and phase timeline. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { phaseTimeline, printJson, printObject, RUN_PHASES } from '../../output.js';

/** Builds `tartarus runs get`. */
export function getCommand(): Command {
  const cmd = new Command('get')
    .description("show a run's state and result")
    .argument('<id>', 'run id')
    .option('--output', 'include stdout and stderr');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean; output?: boolean }>(self);
    const run = await (await connect(o.dataDir)).runs.get(id, { output: o.output });
    if (o.json) return printJson(run);
    const { phases, ...rest } = run;
    printObject(rest);
    // Where the time went: each phase of the latest attempt since the submission.
    process.stdout.write(`phases:\n${phaseTimeline(phases, RUN_PHASES).join('\n')}\n`);
  });
}
