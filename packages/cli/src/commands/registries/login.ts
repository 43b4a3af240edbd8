/**
 * `tartarus registries login REGISTRY --username U --password-stdin`: stores the tenant's login
 * for a registry. The password is read from stdin only: an argument would be visible to every
 * user of the machine (`ps`) and kept in shell history.
 */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Most of stdin read as a password (a token, not a file). */
const MAX_PASSWORD_BYTES = 8192;

/** All of stdin, without one trailing newline (as `echo "$TOKEN" |` adds). */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError(
      '--password-stdin reads the password from a pipe: printf %s "$TOKEN" | tartarus registries login …',
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_PASSWORD_BYTES)
      throw new UsageError(`the password on stdin is longer than ${MAX_PASSWORD_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password === '')
    throw new UsageError('no password on stdin: pipe it in with --password-stdin');
  return password;
}

/** Builds `tartarus registries login`. */
export function loginCommand(): Command {
  const cmd = new Command('login')
    .description('store credentials for a registry (the password from stdin); needs an admin key')
    .argument(
      '<registry>',
      'host[:port] as image references name it, e.g. ghcr.io, docker.io, 127.0.0.1:5000',
    )
    .requiredOption('-u, --username <name>', 'user name (or token name) at the registry')
    .option('--password-stdin', 'read the password or token from stdin (the only way to give it)');
  return withJson(cmd).action(async (registry: string, _o: unknown, self: Command) => {
    const o = allOptions<{ username: string; passwordStdin?: boolean; json?: boolean }>(self);
    if (!o.passwordStdin)
      throw new UsageError(
        'give the password on stdin with --password-stdin (never on the command line)',
      );
    const password = await readPassword();
    const stored = await (
      await connect(o.dataDir)
    ).registries.setCredentials(registry, {
      username: o.username,
      password,
    });
    if (o.json) printJson(stored);
    else process.stdout.write(`logged in to ${stored.registry} as ${stored.username}\n`);
  });
}
