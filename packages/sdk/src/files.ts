/** `sandbox.files`: read, write, list and remove files inside a running sandbox. */
import { utf8 } from './base64.js';
import type { Transport } from './http.js';
import type { FileEntry } from './types.js';

/** Options of `files.write`. */
export interface WriteOptions {
  /** Permission bits in octal, e.g. `'755'`. Server default `644`. */
  mode?: string;
}

/** The file system of one sandbox. */
export class Files {
  private readonly base: string;

  constructor(
    private readonly transport: Transport,
    sandboxId: string,
  ) {
    this.base = `/v1/sandboxes/${encodeURIComponent(sandboxId)}/files`;
  }

  /** Reads a file as UTF-8 text. `path` is absolute inside the sandbox. */
  async read(path: string): Promise<string> {
    return utf8(await this.readBytes(path));
  }

  /** Reads a file's raw bytes. */
  async readBytes(path: string): Promise<Uint8Array> {
    const res = await this.transport.send('GET', this.base, { query: { path } });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Writes (creates or replaces) a file; a string is written as UTF-8. Parent directories are created. */
  async write(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    await this.transport.send('PUT', this.base, { query: { path, mode: options.mode }, body });
  }

  /** Lists a directory. */
  async list(path: string): Promise<FileEntry[]> {
    const res = await this.transport.json<{ items: FileEntry[] }>('GET', `${this.base}/list`, {
      query: { path },
    });
    return res.items;
  }

  /** Removes a file, or a directory with `recursive: true`. */
  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.transport.send('DELETE', this.base, {
      query: { path, recursive: options.recursive },
    });
  }
}
