/**
 * Test fixture: a private PostgreSQL server in a temp directory, reachable only through a unix
 * socket in that directory (no TCP port to collide with anything). As root the server runs as
 * the `postgres` user, since PostgreSQL refuses to run as root. `stop()` shuts it down and
 * removes the directory; it is also attempted at process exit, so a failing test leaves nothing.
 * `halt()` and `resume()` take the server down and bring it back on the same data and socket
 * (a database outage, as clients see one).
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { runCommand } from '@tartarus/runtime';

/** Port number only names the socket file (`.s.PGSQL.<port>`); nothing listens on TCP. */
const PORT = 5432;
const TOOL_TIMEOUT_MS = 60_000;

/** Directory holding initdb, pg_ctl and postgres: `TARTARUS_PG_BIN`, else the newest /usr/lib/postgresql/N/bin. */
function findBinDir(): string | null {
  const fromEnv = process.env['TARTARUS_PG_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0] ?? '', 'bin') : null;
}

interface RunAs {
  prefix: string[];
  uid: number;
  gid: number;
}

/** How to run the server's tools: as `postgres` via runuser when we are root, else as ourselves. */
function runAs(): RunAs | string {
  if (userInfo().uid !== 0) return { prefix: [], uid: -1, gid: -1 };
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0 || gid.status !== 0)
    return 'running as root and there is no postgres user to run PostgreSQL as';
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser'))
    return 'running as root and runuser is missing';
  return {
    prefix: ['runuser', '-u', 'postgres', '--'],
    uid: Number(id.stdout.trim()),
    gid: Number(gid.stdout.trim()),
  };
}

/**
 * Why a PostgreSQL server cannot be started here, or null if it can. Tests skip with this
 * reason printed.
 */
export function postgresUnavailable(): string | null {
  const bin = findBinDir();
  if (bin === null)
    return 'PostgreSQL server binaries not found (install postgresql, or set TARTARUS_PG_BIN)';
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(bin, tool))) return `${join(bin, tool)} is missing`;
  }
  const who = runAs();
  return typeof who === 'string' ? who : null;
}

/** A running private server. */
export interface PostgresServer {
  /** Directory of the socket (and the data directory). */
  readonly socketDir: string;
  /** Creates a fresh database and returns a connection string for it. */
  createDatabase(name?: string): Promise<string>;
  /**
   * Stops the server process (fast shutdown: open sessions are ended with 57P01) and keeps its
   * data and its socket directory: clients find no server there until `resume()`. Idempotent.
   */
  halt(): Promise<void>;
  /**
   * Starts the server again after `halt()`, on the same data and socket; resolves once it
   * accepts connections. Idempotent.
   */
  resume(): Promise<void>;
  /** Stops the server (fast shutdown) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Connection string for a database on the server whose socket is in `socketDir`. */
function urlFor(socketDir: string, database: string): string {
  return `postgresql://postgres@localhost/${database}?host=${encodeURIComponent(socketDir)}&port=${PORT}`;
}

/** The postmaster's pid from its pid file, or 0. */
function postmasterPid(dir: string): number {
  try {
    return Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || 0;
  } catch {
    return 0; // not started or already gone
  }
}

/** SIGKILLs `pid` if it is still this server's postmaster (its command line names `dir`). */
function killPostmaster(pid: number, dir: string): void {
  if (pid <= 0) return;
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Last resort at process exit: kill the postmaster by its pid file and remove the directory. */
function killNow(dir: string): void {
  killPostmaster(postmasterPid(dir), dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Starts a server; throws if `postgresUnavailable()` would have said why. */
export async function startPostgres(): Promise<PostgresServer> {
  const reason = postgresUnavailable();
  if (reason !== null) throw new Error(reason);
  const bin = findBinDir() ?? '';
  const who = runAs() as RunAs;
  const dir = mkdtempSync(join(tmpdir(), 'tartarus-pg-'));
  const onExit = () => killNow(dir);
  process.on('exit', onExit);
  const data = join(dir, 'data');
  const tool = (name: string, args: string[]) =>
    runCommand([...who.prefix, join(bin, name), ...args], { timeoutMs: TOOL_TIMEOUT_MS });
  let counter = 0;
  let stopped: Promise<void> | undefined;
  // Kept from the start: if the pid file cannot be read at stop, the server is still ended.
  let pid = 0;
  // fsync off: the data dir is thrown away; the store's crash tests kill clients, not this server.
  const serverOptions = `-k ${dir} -c listen_addresses= -p ${PORT} -F -c shared_buffers=16MB -c max_connections=100`;
  const start = async () => {
    await tool('pg_ctl', [
      'start',
      '-D',
      data,
      '-w',
      '-t',
      '60',
      '-l',
      join(dir, 'server.log'),
      '-o',
      serverOptions,
    ]);
    pid = postmasterPid(dir);
  };
  const stop = async () => {
    try {
      if (existsSync(join(data, 'postmaster.pid')))
        await tool('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']);
    } catch {
      killNow(dir);
    } finally {
      killPostmaster(pid, dir);
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
    }
  };
  try {
    if (who.uid >= 0) chownSync(dir, who.uid, who.gid);
    await tool('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    socketDir: dir,
    async halt() {
      if (!existsSync(join(data, 'postmaster.pid'))) return;
      await tool('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']);
      killPostmaster(pid, dir);
      pid = 0;
    },
    async resume() {
      if (existsSync(join(data, 'postmaster.pid'))) return;
      await start();
    },
    async createDatabase(name = `t${process.pid}_${++counter}`) {
      const client = new pg.Client({ connectionString: urlFor(dir, 'postgres') });
      await client.connect();
      try {
        await client.query(`create database "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return urlFor(dir, name);
    },
    stop: () => (stopped ??= stop()),
  };
}
