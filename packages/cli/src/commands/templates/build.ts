/**
 * `tartarus templates build NAME`: builds a built-in template, or with `--dockerfile` creates a
 * template of the tenant from a Dockerfile (its context dir archived and sent along).
 */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';
import { packContext } from './context.js';
import { sizeText, summary, withProgress } from './show.js';

interface BuildOptions {
  dockerfile?: string;
  context?: string;
  json?: boolean;
}

/** Builds `tartarus templates build`. */
export function buildCommand(): Command {
  const cmd = new Command('build')
    .description(
      'build (or rebuild) a template, with a progress display; with --dockerfile, create one from a Dockerfile',
    )
    .argument(
      '<name>',
      'template name, e.g. busybox, debian, python, or a new one with --dockerfile',
    )
    .option('--dockerfile <path>', 'build a new template of the tenant from this Dockerfile')
    .option(
      '--context <dir>',
      "build context sent with --dockerfile (default: the Dockerfile's directory; at most 32 MiB as tar)",
    );
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<BuildOptions>(self);
    if (o.context !== undefined && o.dockerfile === undefined)
      throw new UsageError('--context goes with --dockerfile: give the Dockerfile to build');
    const client = await connect(o.dataDir);
    if (o.dockerfile !== undefined) {
      const packed = await packContext(o.dockerfile, o.context);
      const t = await withProgress((onProgress) =>
        client.templates.create({ name, ...packed }, { onProgress }),
      );
      if (o.json) printJson(t);
      else process.stdout.write(`built ${summary(t)}\n`);
      return;
    }
    const result = await withProgress((onProgress) => client.templates.build(name, { onProgress }));
    if (o.json) printJson(result);
    else {
      const size = sizeText(result.sizeBytes);
      process.stdout.write(`built ${result.name}${size === null ? '' : ` (${size})`}\n`);
    }
  });
}
