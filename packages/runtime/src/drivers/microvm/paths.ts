/**
 * Where one microVM's host objects live, derived from the state dir and the sandbox id alone
 * (so that list() and adopt() find them after a crash): `<stateDir>/microvm/<id>/` holds the
 * spec, the writable layer, the console log and QEMU's pid file. Unix socket paths are capped
 * at 107 bytes; when the state dir is too deep for that, the sockets move to a directory under
 * /run named by a hash of the sandbox dir (still derivable, never shared).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Host paths of one microVM. */
export interface VmPaths {
  dir: string;
  socketDir: string;
  spec: string;
  writableImage: string;
  /** How QEMU was started (boot.ts VmLaunch). */
  launch: string;
  /** A hibernated VM's saved state (hibernate.ts); its presence marks the VM hibernated. */
  savedState: string;
  /** The serial console (QEMU listens): read during boot only, so a guest cannot fill a host file. */
  consoleSocket: string;
  pidFile: string;
  /** One socket per agent port (`AGENT_PORTS` of them): a restarted host takes a free one. */
  agentSockets: string[];
  qmpSocket: string;
}

/** Agent ports per VM: the owner's, plus room for adopters while an old connection lingers. Keep in sync with NPORTS in guest/proto.h. */
export const AGENT_PORTS = 2;

const MAX_SOCKET_PATH = 100;

/** Paths of sandbox `id` under `driverDir` (`<stateDir>/microvm`). */
export function vmPaths(driverDir: string, id: string): VmPaths {
  const dir = join(driverDir, id);
  const socketDir =
    join(dir, 'q.sock').length <= MAX_SOCKET_PATH
      ? dir
      : join('/run/tartarus-microvm', createHash('sha256').update(dir).digest('hex').slice(0, 24));
  return {
    dir,
    socketDir,
    spec: join(dir, 'spec.json'),
    writableImage: join(dir, 'rw.ext4'),
    launch: join(dir, 'launch.json'),
    savedState: join(dir, 'memory.state'),
    consoleSocket: join(socketDir, 'c.sock'),
    pidFile: join(dir, 'qemu.pid'),
    agentSockets: Array.from({ length: AGENT_PORTS }, (_, i) => join(socketDir, `a${i}.sock`)),
    qmpSocket: join(socketDir, 'q.sock'),
  };
}
