/**
 * File access inside a sandbox, answered by its agent. Confinement is the sandbox itself: the
 * agent resolves every path in the sandbox's own view of its filesystem (a VM's, or a
 * container's mount namespace, or gVisor's), so `..`, absolute symlinks and symlinks swapped
 * during the call cannot reach a host file. A relative path is resolved against `cwd` when one
 * is given (containers: the main process's), else it is a caller error (microVMs).
 */
import { posix } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import type { FileEntry, SandboxFiles } from '../../driver.js';
import { checkRemovable, fileMode } from '../file-args.js';
import type { AgentClient } from './client.js';
import { Msg, PayloadReader, PayloadWriter } from './protocol.js';

const CHUNK = 512 * 1024;
/** Largest file `read()` returns, bytes (64 MiB). */
export const MAX_READ_BYTES = 64 << 20;
const TYPES = ['file', 'dir', 'symlink', 'other'] as const;

/** `SandboxFiles` over the agent returned by `agent()` (which throws when the sandbox is not running). */
export class AgentFiles implements SandboxFiles {
  constructor(
    private readonly agent: () => AgentClient | Promise<AgentClient>,
    private readonly cwd?: () => string,
  ) {}

  private checkPath(path: string): string {
    if (typeof path !== 'string' || path === '' || path.includes('\0')) {
      throw new InvalidArgumentError('path must be a non-empty string without NUL bytes');
    }
    if (this.cwd !== undefined) return posix.resolve(this.cwd(), path);
    if (!path.startsWith('/')) {
      throw new InvalidArgumentError(`path ${JSON.stringify(path)} must be absolute (start with /)`);
    }
    return posix.normalize(path);
  }

  async read(path: string, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    const p = this.checkPath(path);
    const parts: Buffer[] = [];
    let size = 0;
    await (await this.agent()).request(Msg.fileRead, new PayloadWriter().str(p).build(), (d) => {
      size += d.length;
      if (size <= MAX_READ_BYTES) parts.push(d);
    });
    if (size > MAX_READ_BYTES) {
      throw new InvalidArgumentError(`${p} is larger than ${MAX_READ_BYTES} bytes: read it in parts with exec`);
    }
    return Buffer.concat(parts);
  }

  async write(
    path: string,
    data: Buffer | string,
    options: { mode?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const p = this.checkPath(path);
    const mode = fileMode(options.mode);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const chunks: Buffer[] = [];
    for (let off = 0; off === 0 || off < buf.length; off += CHUNK) {
      const flags = (off === 0 ? 1 : 0) | (off + CHUNK >= buf.length ? 2 : 0);
      chunks.push(
        new PayloadWriter()
          .u8(flags)
          .u32(mode)
          .str(p)
          .raw(buf.subarray(off, off + CHUNK))
          .build(),
      );
    }
    await (await this.agent()).requestChunks(Msg.fileWrite, chunks);
  }

  async list(path: string, signal?: AbortSignal): Promise<FileEntry[]> {
    signal?.throwIfAborted();
    const dir = this.checkPath(path);
    const entries: FileEntry[] = [];
    await (await this.agent()).request(Msg.fileList, new PayloadWriter().str(dir).build(), (d) => {
      const r = new PayloadReader(d);
      while (!r.done) {
        const type = TYPES[r.u8()] ?? 'other';
        const mode = r.u32();
        const sizeBytes = r.u64();
        const modifiedAtMs = r.u64();
        const name = r.str();
        entries.push({ name, path: posix.join(dir, name), type, sizeBytes, mode, modifiedAtMs });
      }
    });
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(
    path: string,
    options: { recursive?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const p = this.checkPath(path);
    checkRemovable(p);
    await (await this.agent()).request(
      Msg.fileRemove,
      new PayloadWriter()
        .u8(options.recursive ? 1 : 0)
        .str(p)
        .build(),
    );
  }
}
