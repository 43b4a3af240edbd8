/**
 * `tartarus integrations ls|get|set|rm`: the integrations the server runs (GitHub, Slack,
 * plugins) and the tenant's config of each, set from a JSON file (secrets by name only: store
 * them with `tartarus secrets set`).
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { IntegrationInfo } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';

function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description('list the integrations the server runs, and whether the tenant configured each');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).integrations.list();
    if (o.json) return printJson({ items });
    printTable<IntegrationInfo>(items, [
      { header: 'name', get: (i) => i.name },
      { header: 'configured', get: (i) => (i.configured ? 'yes' : 'no') },
      { header: 'routes', get: (i) => i.routes.join(' ') },
      { header: 'description', get: (i) => i.description },
    ]);
  });
}

/** A config file's JSON object; a usage error naming the file otherwise. */
async function readConfig(file: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file} (${e.code ?? e.message})`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}

function setCommand(): Command {
  const cmd = new Command('set').description("set the tenant's config of an integration from a JSON file; needs an admin key").argument('<name>', 'github, slack or a plugin').argument('<file>', 'the config as JSON');
  return withJson(cmd).action(async (name: string, file: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const saved = await (await connect(o.dataDir)).integrations.setConfig(name, await readConfig(file));
    if (o.json) return printJson(saved);
    process.stdout.write(`configured ${name}\n`);
  });
}

function getCommand(): Command {
  return new Command('get').description("print the tenant's config of an integration").argument('<name>').action(async (name: string, _o: unknown, self: Command) => {
    printJson(await (await connect(allOptions<object>(self).dataDir)).integrations.getConfig(name));
  });
}

function rmCommand(): Command {
  return new Command('rm').description("remove the tenant's config of an integration (it stops acting for the tenant)").argument('<name>').action(async (name: string, _o: unknown, self: Command) => {
    await (await connect(allOptions<object>(self).dataDir)).integrations.deleteConfig(name);
    process.stdout.write(`removed the ${name} config\n`);
  });
}

/** Builds `tartarus integrations`. */
export function integrationsCommand(): Command {
  return new Command('integrations').description('GitHub, Slack and plugins: what runs, and the tenant\'s config of each').addCommand(lsCommand()).addCommand(getCommand()).addCommand(setCommand()).addCommand(rmCommand());
}
