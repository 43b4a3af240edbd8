/** `tartarus sandbox files write ID PATH [LOCAL]`: uploads a local file (or stdin) into the sandbox. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { connect } from '../../../connection.js';
import { allOptions, withJson } from '../../../options.js';
import { printJson } from '../../../output.js';

async function readAll(source: string | undefined): Promise<Uint8Array> {
  if (source && source !== '-') return readFile(source);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Builds `tartarus sandbox files write`. */
export function writeCommand(): Command {
  const cmd = new Command('write')
    .description('write a file into the sandbox from a local file or stdin')
    .argument('<id>', 'sandbox id')
    .argument('<path>', 'absolute path inside the sandbox')
    .argument('[local]', 'local file to upload (default: stdin)')
    .option('--mode <octal>', 'permission bits, e.g. 755 (default 644)');
  return withJson(cmd).action(
    async (id: string, path: string, local: string | undefined, _o: unknown, self: Command) => {
      const o = allOptions<{ mode?: string; json?: boolean }>(self);
      const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
      const data = await readAll(local);
      await sandbox.files.write(path, data, o.mode ? { mode: o.mode } : {});
      if (o.json) printJson({ path, sizeBytes: data.byteLength });
      else process.stderr.write(`wrote ${data.byteLength} bytes to ${path}\n`);
    },
  );
}
