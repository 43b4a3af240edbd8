/**
 * Server replicas for the battery: real `tartarus-server` processes (apps/server/dist/main.js) on
 * one PostgreSQL and one Redis, each on a port of its own on every address (the hosts reach them
 * through their links), with short timers so faults are noticed in seconds. A replica can be
 * SIGKILLed and started again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const SERVER_MAIN = new URL('../../../../apps/server/dist/main.js', import.meta.url).pathname;
const START_TIMEOUT_MS = 30_000;

/**
 * The timers every replica runs with: a silent node is down after 6 s (a replica restarts well
 * within it); a start not confirmed in 15 s is tried again (a loaded 2-core machine can take
 * seconds to start a sandbox, and a lease lapsing there would be a fault the battery did not make).
 */
export const TIMERS = { heartbeatIntervalMs: 500, nodeDeadlineMs: 6000, leaseMs: 15_000, sweepIntervalMs: 250, schedulePollMs: 200 };

/** What every replica shares. */
export interface ReplicaSettings {
  database: string;
  redis: string;
  token: string;
  /** tokenSecret and secretKey: every replica must share them. */
  secret: string;
  dir: string;
  rateLimitPerSec: number;
  rateLimitBurst: number;
}

/** One server replica process. */
export class Replica {
  private child: ChildProcess | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly s: ReplicaSettings,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** Starts the process and waits until it answers /healthz. */
  async start(): Promise<void> {
    const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    // `--name=value`: a random token or secret may start with "-", which parseArgs would refuse as a separate word.
    const values = { store: this.s.database, redis: this.s.redis, host: '0.0.0.0', port: this.port, agentToken: this.s.token, tokenSecret: this.s.secret, secretKey: this.s.secret, ...TIMERS, rateLimitPerSec: this.s.rateLimitPerSec, rateLimitBurst: this.s.rateLimitBurst };
    const args = [SERVER_MAIN, ...Object.entries(values).map(([k, v]) => `${flag(k)}=${String(v)}`)];
    const log = createWriteStream(join(this.s.dir, `${this.name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TARTARUS_LOG_LEVEL: 'info' } });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`replica ${this.name} exited with ${child.exitCode}: ${await logTail(join(this.s.dir, `${this.name}.log`))}`);
      const ok = await fetch(`${this.url}/healthz`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`replica ${this.name} did not answer within ${START_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILLs the process (nothing is flushed or closed: a crash). */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  /** SIGTERMs the process and waits for it. */
  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(t);
  }
}

/** The last lines of a log (the harness's directory goes at the end of the run, so a failure quotes them). */
async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-5).join(' | ') || '(its log is empty)';
}
