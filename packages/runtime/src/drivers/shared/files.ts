/**
 * File operations inside a sandbox, run by the static helper `tt-files` exec'd in the sandbox
 * (see native/tt-files.c). Paths are resolved by the sandbox's own kernel view, so `..`,
 * absolute symlinks and symlinks swapped mid-call stay inside it; and the helper sees exactly
 * what the workload sees, whichever runtime (runc's overlay, gVisor's gofer) is underneath.
 * It runs as the sandbox's user: what that user may not touch, the API may not either.
 */
import { posix } from 'node:path';
import {
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
} from '@tartarus/core';
import type { ExecOptions, FileEntry, ProcessResult, SandboxFiles } from '../../driver.js';
import { checkRemovable, fileMode } from '../../sandbox/file-args.js';
import { SANDBOX_FILES_HELPER } from '../../sandbox/native.js';

/** Largest file `read()` returns, bytes (64 MiB). */
export const MAX_READ_BYTES = 64 << 20;

/** Runs the helper in the sandbox: argv, optional stdin, and the output cap. */
export type HelperRunner = (argv: string[], stdin: Buffer | undefined, limitBytes: number, signal?: AbortSignal) => Promise<ProcessResult>;

/** `SandboxFiles` over `tt-files`. `cwd` anchors relative paths. */
export class HelperFiles implements SandboxFiles {
  constructor(private readonly run: HelperRunner, private readonly cwd: string) {}

  async read(path: string, signal?: AbortSignal): Promise<Buffer> {
    const p = this.resolve(path);
    const res = await this.call(['read', p], undefined, MAX_READ_BYTES, signal);
    if (res.stdoutTruncated) throw new InvalidArgumentError(`${p} is larger than ${MAX_READ_BYTES} bytes: read it in parts with exec`);
    return res.stdout;
  }

  async write(path: string, data: Buffer | string, options: { mode?: number; signal?: AbortSignal } = {}): Promise<void> {
    const mode = fileMode(options.mode);
    await this.call(['write', this.resolve(path), mode.toString(8)], Buffer.from(data), 4096, options.signal);
  }

  async list(path: string, signal?: AbortSignal): Promise<FileEntry[]> {
    const dir = this.resolve(path);
    const res = await this.call(['list', dir], undefined, 256 << 20, signal);
    const f = res.stdout.toString('utf8').split('\0');
    const entries: FileEntry[] = [];
    for (let i = 0; i + 4 < f.length; i += 5) {
      const name = f[i + 4] as string;
      const t = f[i];
      entries.push({
        name,
        path: posix.join(dir, name),
        type: t === 'f' ? 'file' : t === 'd' ? 'dir' : t === 'l' ? 'symlink' : 'other',
        mode: parseInt(f[i + 1] as string, 8),
        sizeBytes: Number(f[i + 2]),
        modifiedAtMs: Number(f[i + 3]),
      });
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async remove(path: string, options: { recursive?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const p = this.resolve(path);
    checkRemovable(p);
    await this.call(['rm', p, ...(options.recursive ? ['-r'] : [])], undefined, 4096, options.signal);
  }

  private resolve(path: string): string {
    if (typeof path !== 'string' || path === '' || path.includes('\0')) {
      throw new InvalidArgumentError('path must be a non-empty string without NUL bytes');
    }
    return posix.resolve(this.cwd, path);
  }

  private async call(args: string[], stdin: Buffer | undefined, limit: number, signal?: AbortSignal): Promise<ProcessResult> {
    const res = await this.run([SANDBOX_FILES_HELPER, ...args], stdin, limit, signal);
    if (res.reason === 'exited' && res.exitCode === 0) return res;
    const msg = res.stderr.toString('utf8').trim().replace(/^tt-files: /, '') || res.message || `exit code ${res.exitCode}`;
    const context = { path: args[1], op: args[0] };
    if (res.reason === 'error') throw new InternalError(`file ${args[0]} failed: ${msg}`, { context });
    switch (res.exitCode) {
      case 2:
        throw new NotFoundError(`no such file or directory in the sandbox: ${args[1]}`, { context });
      case 3:
        throw new InvalidArgumentError(`${msg} (${args[0]} ${args[1]})`, { context });
      case 4:
        throw new PermissionDeniedError(`permission denied in the sandbox: ${msg}`, { context });
      default:
        throw new InternalError(`file ${args[0]} failed: ${msg}`, { context });
    }
  }
}

/** An `ExecOptions` for the helper (used by the handle's runner). */
export function helperExec(argv: string[], signal?: AbortSignal): ExecOptions {
  return { argv, env: { PATH: '/usr/bin:/bin' }, cwd: '/', stdin: true, timeoutMs: 60_000, ...(signal ? { signal } : {}) };
}

