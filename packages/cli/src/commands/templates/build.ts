/** `tartarus templates build NAME`: builds a template, showing its progress. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';
import { ProgressDisplay } from '../../progress.js';

/** Builds `tartarus templates build`. */
export function buildCommand(): Command {
  const cmd = new Command('build')
    .description('build (or rebuild) a template, with a progress display')
    .argument('<name>', 'template name, e.g. busybox, debian, python');
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const display = new ProgressDisplay();
    try {
      const result = await client.templates.build(name, { onProgress: (p) => display.update(p) });
      display.finish();
      if (o.json) printJson(result);
      else
        process.stdout.write(
          `built ${result.name}${result.sizeBytes === null ? '' : ` (${(result.sizeBytes / 1_048_576).toFixed(1)} MiB)`}\n`,
        );
    } catch (e) {
      display.finish();
      throw e;
    }
  });
}
