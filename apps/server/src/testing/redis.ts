/**
 * Test fixture: a private Redis server in a temp directory, reachable only through a unix socket
 * there (no TCP port to collide with anything), persisting nothing. `halt()` stops it and `resume()` starts
 * it again on the same socket (what a Redis outage looks like to the server); `stop()` ends it and
 * removes the directory, also attempted at process exit so a failing test leaves nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_TIMEOUT_MS = 10_000;

/** Why a Redis server cannot be started here, or null if it can. Tests skip with this reason printed. */
export function redisUnavailable(): string | null {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? null : 'redis-server is not installed (apt-get install redis-server)';
}

/** A running private server. */
export interface RedisServer {
  /** The URL the server's `--redis` takes: `unix:///…/redis.sock`. */
  readonly url: string;
  /** Stops the server (connections drop, nothing is kept); `resume()` brings it back. */
  halt(): Promise<void>;
  /** Starts it again after `halt()`, on the same socket. */
  resume(): Promise<void>;
  /** Stops it and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Resolves once a PING on `socket` is answered. */
async function answers(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  return new Promise((resolve) => {
    const c = createConnection(socket);
    c.setTimeout(1000, () => c.destroy());
    c.once('error', () => resolve(false));
    c.once('close', () => resolve(false));
    c.once('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      c.destroy();
    });
    c.write('PING\r\n');
  });
}

/** Starts a server; throws if `redisUnavailable()` would have said why. */
export async function startRedis(): Promise<RedisServer> {
  const reason = redisUnavailable();
  if (reason !== null) throw new Error(reason);
  const dir = mkdtempSync(join(tmpdir(), 'tartarus-redis-'));
  const socket = join(dir, 'redis.sock');
  let child: ChildProcess | undefined;
  const onExit = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  const start = async (): Promise<void> => {
    const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child = proc;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answers(socket))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms (exit ${proc.exitCode})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    rmSync(socket, { force: true });
  };
  await start().catch((err: unknown) => {
    onExit();
    process.off('exit', onExit);
    throw err;
  });
  return {
    url: `unix://${socket}`,
    halt,
    resume: start,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
    },
  };
}
