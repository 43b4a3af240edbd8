/**
 * `tartarus secrets set|ls|rm`: the tenant's named secrets. A value is read from stdin only (an
 * argument would show in `ps` and in shell history), stored encrypted, and never shown again.
 */
import { Command } from 'commander';
import type { Secret } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

/** Most of stdin read as a secret. */
const MAX_SECRET_BYTES = 65_536;

/** All of stdin, without one trailing newline (as `echo "$TOKEN" |` adds). */
async function readValue(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('the value is read from a pipe: printf %s "$TOKEN" | tartarus secrets set NAME');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_SECRET_BYTES) throw new UsageError(`the value on stdin is longer than ${MAX_SECRET_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  const value = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (value === '') throw new UsageError('no value on stdin: printf %s "$TOKEN" | tartarus secrets set NAME');
  return value;
}

function setCommand(): Command {
  const cmd = new Command('set').description('store (or replace) a secret, its value from stdin; needs an admin key').argument('<name>', 'letters, digits, ".", "_", "-" (e.g. github-token)');
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const value = await readValue();
    const s = await (await connect(o.dataDir)).secrets.set(name, value);
    if (o.json) return printJson(s);
    process.stdout.write(`stored secret ${s.name}\n`);
  });
}

function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description("list the tenant's secrets (names only, never a value)");
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).secrets.list();
    if (o.json) return printJson({ items });
    printTable<Secret>(items, [
      { header: 'name', get: (s) => s.name },
      { header: 'updated', get: (s) => ago(s.updatedAt) },
    ]);
  });
}

function rmCommand(): Command {
  return new Command('rm').alias('delete').description('remove a secret; needs an admin key').argument('<name>').action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<object>(self);
    await (await connect(o.dataDir)).secrets.delete(name);
    process.stdout.write(`removed secret ${name}\n`);
  });
}

/** Builds `tartarus secrets`. */
export function secretsCommand(): Command {
  return new Command('secrets').description("the tenant's secrets for integrations, webhooks and deployments").addCommand(setCommand()).addCommand(lsCommand()).addCommand(rmCommand());
}
