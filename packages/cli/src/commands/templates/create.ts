/** `tartarus templates create NAME --image REF`: a template of the tenant from an image. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';
import { summary, withProgress } from './show.js';

/** Builds `tartarus templates create`. */
export function createCommand(): Command {
  const cmd = new Command('create')
    .description(
      'create a template from an image (pulled now, with the credentials of `registries login`)',
    )
    .argument('<name>', 'template name (lowercase letters, digits, ".", "_", "-")')
    .requiredOption(
      '--image <ref>',
      'image reference, e.g. nginx:1.25 or ghcr.io/org/app@sha256:…',
    );
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ image: string; json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const t = await withProgress((onProgress) =>
      client.templates.create({ name, image: o.image }, { onProgress }),
    );
    if (o.json) printJson(t);
    else process.stdout.write(`created ${summary(t)}\n`);
  });
}
