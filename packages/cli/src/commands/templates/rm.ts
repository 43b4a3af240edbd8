/** `tartarus templates rm NAME`: deletes one of the tenant's templates. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus templates rm`. */
export function rmCommand(): Command {
  const cmd = new Command('rm')
    .alias('delete')
    .description("delete one of the tenant's templates (work already accepted keeps its image)")
    .argument('<name>', 'template name');
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    await (await connect(o.dataDir)).templates.delete(name);
    if (o.json) printJson({ name, deleted: true });
    else process.stdout.write(`deleted ${name}\n`);
  });
}
