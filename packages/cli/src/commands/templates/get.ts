/** `tartarus templates get NAME`: one template, with its image's settings. */
import { Command } from 'commander';
import type { Template } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printObject } from '../../output.js';
import { sizeText } from './show.js';

function shown(t: Template): Record<string, unknown> {
  const c = t.config;
  return {
    name: t.name,
    source: t.source,
    status: t.status,
    image: t.image ?? undefined,
    digest: t.digest,
    size: sizeText(t.sizeBytes),
    'built at': t.builtAt,
    entrypoint: c?.entrypoint,
    cmd: c?.cmd,
    workdir: c?.workdir,
    user: c?.user,
    env: c?.env,
    ports: c?.exposedPorts,
    error: t.error ?? undefined,
    description: t.description,
  };
}

/** Builds `tartarus templates get`. */
export function getCommand(): Command {
  const cmd = new Command('get').description('show a template').argument('<name>', 'template name');
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const t = await (await connect(o.dataDir)).templates.get(name);
    if (o.json) printJson(t);
    else printObject(shown(t));
  });
}
