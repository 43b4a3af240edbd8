/**
 * File access inside a microVM, answered by the guest agent. Confinement is the VM itself: the
 * agent sees only the guest's filesystem, so no path can reach a host file. Paths must be
 * absolute; a relative one is a caller error.
 */
import { posix } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import type { FileEntry, SandboxFiles } from '../../driver.js';
import { checkRemovable, fileMode } from '../../sandbox/file-args.js';
import type { AgentClient } from './agent-client.js';
import { Msg, PayloadReader, PayloadWriter } from './protocol.js';

const CHUNK = 512 * 1024;
const TYPES = ['file', 'dir', 'symlink', 'other'] as const;

function checkPath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) {
    throw new InvalidArgumentError(`path ${JSON.stringify(path)} must be absolute (start with /)`);
  }
  return posix.normalize(path);
}

/** `SandboxFiles` over the agent returned by `agent()` (which throws when the VM is not running). */
export class MicrovmFiles implements SandboxFiles {
  constructor(private readonly agent: () => AgentClient) {}

  async read(path: string, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    const parts: Buffer[] = [];
    await this.agent().request(
      Msg.fileRead,
      new PayloadWriter().str(checkPath(path)).build(),
      (d) => parts.push(d),
    );
    return Buffer.concat(parts);
  }

  async write(
    path: string,
    data: Buffer | string,
    options: { mode?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const p = checkPath(path);
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
    await this.agent().requestChunks(Msg.fileWrite, chunks);
  }

  async list(path: string, signal?: AbortSignal): Promise<FileEntry[]> {
    signal?.throwIfAborted();
    const dir = checkPath(path);
    const entries: FileEntry[] = [];
    await this.agent().request(Msg.fileList, new PayloadWriter().str(dir).build(), (d) => {
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
    const p = checkPath(path);
    checkRemovable(p);
    await this.agent().request(
      Msg.fileRemove,
      new PayloadWriter()
        .u8(options.recursive ? 1 : 0)
        .str(p)
        .build(),
    );
  }
}
