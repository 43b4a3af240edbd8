/** `tartarus sandbox files read ID PATH`: writes a file's bytes to stdout (or `-o FILE`). */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { connect } from '../../../connection.js';
import { allOptions } from '../../../options.js';

/** Builds `tartarus sandbox files read`. */
export function readCommand(): Command {
  return new Command('read')
    .description('print a file of the sandbox')
    .argument('<id>', 'sandbox id')
    .argument('<path>', 'absolute path inside the sandbox')
    .option('-o, --output <file>', 'write to this local file instead of stdout')
    .action(async (id: string, path: string, _o: unknown, self: Command) => {
      const o = allOptions<{ output?: string }>(self);
      const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
      const bytes = await sandbox.files.readBytes(path);
      if (o.output) await writeFile(o.output, bytes);
      else process.stdout.write(bytes);
    });
}
