/**
 * `tartarus import compose FILE [-o OUT]`: a Docker Compose file → a deployment spec (YAML on
 * stdout or in OUT), and on stderr one line per thing it could not map, with the Compose path
 * and line. Works without a server; the importer is loaded only here.
 */
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';
import { readTextFile, specErrorsAsUsage } from '../validate.js';

interface ComposeOptions {
  output?: string;
  name?: string;
  json?: boolean;
}

/** Builds `tartarus import compose`. */
export function composeCommand(): Command {
  const cmd = new Command('compose')
    .description(
      'turn a Docker Compose file into a deployment spec; what cannot be mapped is listed on stderr',
    )
    .argument('<file>', 'the Compose file (- reads stdin)')
    .option('-o, --output <file>', 'write the spec to this file instead of stdout')
    .option(
      '--name <name>',
      "the deployment's name when the file has no top-level name (default: the file's directory name)",
    )
    .addHelpText(
      'after',
      '\nEach line on stderr is "FILE:LINE: PATH: what happened". A file that is not a Compose file is\none error line and exit status 2. The mapping: docs/deployments.md.',
    );
  return withJson(cmd).action(async (file: string, _o: unknown, self: Command) => {
    const o = allOptions<ComposeOptions>(self);
    const text = await readTextFile(file);
    const name = file === '-' ? '<stdin>' : file;
    const { importCompose, formatIssue } = await import('@tartarus/core/deploy');
    const fallbackName = o.name ?? (file === '-' ? undefined : basename(dirname(resolve(file))));
    const result = await specErrorsAsUsage(() =>
      importCompose(text, {
        file: name,
        ...(fallbackName === undefined ? {} : { name: fallbackName }),
      }),
    );
    for (const u of result.unmapped) process.stderr.write(`${formatIssue(name, u)}\n`);
    if (o.output !== undefined) {
      await writeFile(o.output, result.yaml).catch((e: Error) => {
        throw new UsageError(`cannot write ${o.output}: ${e.message}`);
      });
    }
    if (o.json) return printJson({ spec: result.spec, unmapped: result.unmapped });
    if (o.output === undefined) process.stdout.write(result.yaml);
    else
      process.stdout.write(
        `wrote ${o.output} (deployment ${result.spec.deployment}, ${Object.keys(result.spec.services).length} service(s))\n`,
      );
  });
}
