/**
 * Filesystem snapshots of container and gVisor sandboxes: the writable layer (tt-layer's upper
 * directory, with its whiteouts) as a tar, read inside the sandbox's namespaces by `tt-layer
 * snapshot` (native/snapshot.c). A new sandbox starts from one with `SandboxOptions.seed`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InternalError, QuotaExceededError } from '@tartarus/core';
import { LAYER_HELPER } from '../../sandbox/native.js';

/** The first file of a gVisor memory snapshot's tar (drivers/gvisor/checkpoint.ts), which tells it from a files snapshot. */
export const MEMORY_MANIFEST = 'tartarus-gvisor.json';

/** Whether the tar at `path` is a gVisor memory snapshot (its first member is the manifest). */
export async function isMemorySnapshot(path: string): Promise<boolean> {
  const f = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await f.read(Buffer.alloc(100), 0, 100, 0);
    const name = buffer.subarray(0, bytesRead).toString('utf8').split('\0')[0];
    return name === MEMORY_MANIFEST;
  } finally {
    await f.close();
  }
}

/** The parent of `pid` (from /proc/PID/stat: the field after the state). */
export async function parentPid(pid: number): Promise<number> {
  const line = await readFile(`/proc/${pid}/stat`, 'utf8');
  const ppid = Number(line.slice(line.lastIndexOf(')') + 2).split(' ')[1]);
  if (!Number.isInteger(ppid) || ppid <= 1) throw new InternalError(`no runtime process above ${pid}`);
  return ppid;
}

/**
 * Writes the writable layer of the sandbox whose bundle is `bundle` (its container's pid in
 * `pidFile`) to `path`, stopping past `maxBytes`; returns its size. The runtime process — the
 * container's parent, in the layer's mount namespace — is where the layer is seen. `withTmp`:
 * its /tmp is the layer's tmp/, apart from the overlay (`OciTool.tmpApart`), and goes in as tmp/.
 */
export async function snapshotLayer(bundle: string, pidFile: string, path: string, maxBytes = Number.MAX_SAFE_INTEGER, withTmp = false): Promise<number> {
  const runtimePid = await parentPid(Number((await readFile(pidFile, 'utf8')).trim()));
  const argv = [LAYER_HELPER, 'snapshot', String(runtimePid), bundle, ...(withTmp ? ['--with-tmp'] : [])];
  return writeCapped(argv, path, maxBytes, "the sandbox's files could not be read (tt-layer snapshot");
}

/**
 * Runs `argv` and writes what it prints to `path`, stopping it (QuotaExceeded, `path` removed)
 * past `maxBytes`; returns the size written. `what` names it in the error of a failed run.
 */
export async function writeCapped(argv: string[], path: string, maxBytes: number, what: string): Promise<number> {
  const [cmd, ...args] = argv as [string, ...string[]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  let size = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new QuotaExceededError(`the sandbox's files are more than the ${maxBytes} bytes of snapshots left: delete some snapshots`, 0, { retryable: false }));
      done(null, chunk);
    },
  });
  try {
    await pipeline(child.stdout as NodeJS.ReadableStream, capped, createWriteStream(path, { mode: 0o600 }));
    const code = await exited;
    if (code !== 0) throw new InternalError(`${what} exited ${code}): ${stderr.trim()}`);
    return size;
  } catch (err) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    await rm(path, { force: true });
    throw err;
  }
}
