/** `tartarus templates rebuild NAME`: pulls a template's image again, or builds it again. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';
import { summary, withProgress } from './show.js';

/** Builds `tartarus templates rebuild`. */
export function rebuildCommand(): Command {
  const cmd = new Command('rebuild')
    .description(
      "pull a template's image again, or build it again from its stored Dockerfile context",
    )
    .argument('<name>', "one of the tenant's templates");
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const t = await withProgress((onProgress) => client.templates.rebuild(name, { onProgress }));
    if (o.json) printJson(t);
    else process.stdout.write(`rebuilt ${summary(t)}\n`);
  });
}
