/** `tartarus sandbox files rm ID PATH`: removes a file (or a directory with -r). */
import { Command } from 'commander';
import { connect } from '../../../connection.js';
import { allOptions, withJson } from '../../../options.js';
import { printJson } from '../../../output.js';

/** Builds `tartarus sandbox files rm`. */
export function rmCommand(): Command {
  const cmd = new Command('rm')
    .description('remove a file of the sandbox')
    .argument('<id>', 'sandbox id')
    .argument('<path>', 'absolute path inside the sandbox')
    .option('-r, --recursive', 'remove a directory and its contents');
  return withJson(cmd).action(async (id: string, path: string, _o: unknown, self: Command) => {
    const o = allOptions<{ recursive?: boolean; json?: boolean }>(self);
    const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
    await sandbox.files.remove(path, { recursive: o.recursive });
    if (o.json) printJson({ path, removed: true });
  });
}
