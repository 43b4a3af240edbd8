/** `tartarus sandbox files ls ID PATH`: lists a directory of the sandbox. */
import { Command } from 'commander';
import type { FileEntry } from '@tartarus/sdk';
import { connect } from '../../../connection.js';
import { allOptions, withJson } from '../../../options.js';
import { printJson, printTable } from '../../../output.js';

/** Builds `tartarus sandbox files ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list a directory of the sandbox')
    .argument('<id>', 'sandbox id')
    .argument('[path]', 'absolute directory path', '/');
  return withJson(cmd).action(async (id: string, path: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
    const items = await sandbox.files.list(path);
    if (o.json) return printJson(items);
    printTable<FileEntry>(items, [
      {
        header: 'mode',
        get: (f) =>
          `${f.type === 'dir' ? 'd' : f.type === 'symlink' ? 'l' : '-'}${f.mode.toString(8).padStart(4, '0')}`,
      },
      { header: 'size', get: (f) => f.sizeBytes },
      { header: 'modified', get: (f) => f.modifiedAt },
      { header: 'name', get: (f) => f.name },
    ]);
  });
}
