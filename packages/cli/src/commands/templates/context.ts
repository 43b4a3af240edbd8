/**
 * A Dockerfile build's context as the API takes it: the context dir archived with the system
 * `tar` (`tar -C DIR -cf - .`), base64, and the Dockerfile's path relative to that dir.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { UsageError } from '../../errors.js';

/** Largest context the server takes: 32 MiB of tar. */
const MAX_CONTEXT_BYTES = 32 * 1024 * 1024;

/** What `templates build --dockerfile` sends. */
export interface PackedContext {
  /** Path of the Dockerfile inside the context, `/`-separated. */
  dockerfile: string;
  /** The tar archive, base64. */
  context: string;
}

/** `tar -C dir -cf - .` into memory; an error past the server's limit or when tar fails. */
function tarDir(dir: string): Promise<Buffer> {
  return new Promise((resolveTar, reject) => {
    const child = spawn('tar', ['-C', dir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let tooBig = false;
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_CONTEXT_BYTES) {
        tooBig = true;
        child.kill('SIGKILL');
      } else chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) =>
      reject(new Error(`cannot run tar to archive the build context: ${e.message}`)),
    );
    child.on('close', (code) => {
      if (tooBig)
        reject(
          new Error(
            `the build context ${dir} is larger than 32 MiB: build from a smaller directory (--context)`,
          ),
        );
      else if (code !== 0)
        reject(
          new Error(
            `tar could not archive the build context ${dir}: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`,
          ),
        );
      else resolveTar(Buffer.concat(chunks));
    });
  });
}

/** Archives the build context of `dockerfile`: `contextDir`, default the Dockerfile's dir. */
export async function packContext(dockerfile: string, contextDir?: string): Promise<PackedContext> {
  const file = resolve(dockerfile);
  const dir = resolve(contextDir ?? dirname(file));
  if (!(await stat(file).catch(() => undefined))?.isFile())
    throw new UsageError(`--dockerfile ${dockerfile}: no such file`);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory())
    throw new UsageError(`--context ${contextDir ?? dir}: no such directory`);
  const inside = relative(dir, file);
  if (inside.startsWith('..') || isAbsolute(inside))
    throw new UsageError(
      `--dockerfile ${dockerfile} is not inside the build context ${dir}: move it there or choose another --context`,
    );
  const archive = await tarDir(dir);
  return { dockerfile: inside.split(sep).join('/'), context: archive.toString('base64') };
}
