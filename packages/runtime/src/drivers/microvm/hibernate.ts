/**
 * A microVM's whole state (RAM, CPUs, devices) written to a file and read back, through QEMU's
 * migration: hibernation frees a VM's memory and CPU while keeping it. The VM is stopped, migrated
 * to a unix socket this process listens on (written to the file as it comes), and QEMU ends;
 * later a QEMU started from the same command line with `-incoming defer` is told to listen on a
 * socket of its own and is fed the file. Not `exec:` (the `-sandbox spawn=deny` policy forbids
 * it) and not `fd:` (Node cannot pass a descriptor over QMP's socket).
 *
 * QEMU runs as the VM's own uid after start-up, so the sockets live in a directory of their own
 * under /run that only that uid (and root) can enter, removed after each transfer.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chown, mkdir, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InternalError } from '@tartarus/core';
import { qmpCommand } from './qmp.js';

/** Where the migration sockets of every VM live (one directory per VM). */
export const MIGRATE_ROOT = '/run/tartarus-migrate';
/** The most a save or restore may take, ms (TCG moves about 150 MB/s here). */
const TRANSFER_TIMEOUT_MS = 120_000;

/** A fresh directory for VM `id`'s migration socket, owned by its QEMU's `uid`. */
async function socketDir(id: string, uid: number | undefined): Promise<string> {
  await mkdir(MIGRATE_ROOT, { recursive: true, mode: 0o711 });
  const dir = join(MIGRATE_ROOT, id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  if (uid !== undefined) await chown(dir, uid, uid);
  return dir;
}

/** Removes VM `id`'s migration directory (a transfer cut short by a crash leaves one). */
export async function removeMigrationDir(id: string): Promise<void> {
  await rm(join(MIGRATE_ROOT, id), { recursive: true, force: true });
}

/** Polls `query-migrate` until the migration is `completed`; throws with QEMU's reason when it fails. */
async function migrationDone(qmpSocket: string, deadline: number): Promise<void> {
  for (;;) {
    const m = (await qmpCommand(qmpSocket, 'query-migrate')) as { status?: string; 'error-desc'?: string };
    if (m.status === 'completed') return;
    if (m.status === 'failed' || m.status === 'cancelled') throw new InternalError(`the VM's state could not be saved: ${m['error-desc'] ?? m.status}`);
    if (Date.now() > deadline) throw new InternalError(`the VM's state was not saved within ${TRANSFER_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Stops the VM behind `qmpSocket` and writes its state to `file`; the VM is left stopped (the
 * caller ends QEMU). Returns the file's size.
 */
export async function saveVm(qmpSocket: string, id: string, uid: number | undefined, file: string): Promise<number> {
  const dir = await socketDir(id, uid);
  const path = join(dir, 'out.sock');
  const server: Server = createServer();
  let conn: Socket | undefined;
  const received = new Promise<void>((resolve, reject) => {
    server.once('connection', (c) => {
      conn = c;
      server.close();
      pipeline(c, createWriteStream(file, { mode: 0o600 })).then(resolve, reject);
    });
  });
  received.catch(() => undefined);
  try {
    await new Promise<void>((resolve, reject) => server.listen(path, resolve).once('error', reject));
    if (uid !== undefined) await chown(path, uid, uid);
    const deadline = Date.now() + TRANSFER_TIMEOUT_MS;
    await qmpCommand(qmpSocket, 'stop');
    // QEMU's default cap is 32 MiB/s: a local file takes what the disk gives.
    await qmpCommand(qmpSocket, 'migrate-set-parameters', 5000, { 'max-bandwidth': 8 * 1024 ** 3 });
    await qmpCommand(qmpSocket, 'migrate', 5000, { uri: `unix:${path}` });
    await migrationDone(qmpSocket, deadline);
    await within(received, deadline, "the VM's state was not written");
    return (await stat(file)).size;
  } catch (err) {
    // The VM runs on as it was: the migration called off, the guest continued.
    await qmpCommand(qmpSocket, 'migrate_cancel').catch(() => undefined);
    await qmpCommand(qmpSocket, 'cont').catch(() => undefined);
    throw err;
  } finally {
    conn?.destroy();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Feeds `file` to a QEMU started with `-incoming defer` behind `qmpSocket` (retried until QEMU
 * answers) and leaves the VM running.
 */
export async function loadVm(qmpSocket: string, id: string, uid: number | undefined, file: string, exited: Promise<void>): Promise<void> {
  const dir = await socketDir(id, uid);
  const path = join(dir, 'in.sock');
  const deadline = Date.now() + TRANSFER_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await qmpCommand(qmpSocket, 'migrate-incoming', 5000, { uri: `unix:${path}` });
        break;
      } catch (err) {
        if (gone || attempt >= 500) throw err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    // QEMU closes the connection once it has read the stream's end, maybe before this side has
    // seen its last write through: how the transfer went is QEMU's status below, not the pipe's.
    const socket = connect(path);
    try {
      await within(pipeline(createReadStream(file), socket).catch(() => undefined), deadline, "the VM's state was not read back");
    } finally {
      socket.destroy();
    }
    for (;;) {
      const s = (await qmpCommand(qmpSocket, 'query-status')) as { status?: string };
      if (s.status === 'running') return;
      // The source was stopped before it was saved: the VM comes back stopped.
      if (s.status === 'paused' || s.status === 'postmigrate' || s.status === 'prelaunch') return void (await qmpCommand(qmpSocket, 'cont'));
      if (s.status !== 'inmigrate') throw new InternalError(`the VM did not come back from its saved state (QEMU says ${s.status ?? 'nothing'})`);
      if (gone) throw new InternalError('QEMU ended while the VM was read back');
      if (Date.now() > deadline) throw new InternalError(`the VM's state was not read back within ${TRANSFER_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function within<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InternalError(`${what} within ${TRANSFER_TIMEOUT_MS} ms`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
