/**
 * The platforms the `cluster` benchmark compares, each as the real processes a user runs, started
 * whole and stopped whole: embedded (`tartarus up`: server, scheduler and agent in one process,
 * SQLite) and distributed (R server replicas, `apps/server/dist/main.js`, on one PostgreSQL
 * database and one Redis; A agents, `apps/agent/dist/main.js`, each with its own state dir, agent i
 * connected to replica i mod R).
 *
 * Processes rather than everything in the benchmark's own: replicas and agents in one Node thread
 * would share it, and what distributed mode gives (more processes on the CPUs there are) could not
 * show. Each daemon gets its own process group, so a Ctrl-C in the terminal reaches the benchmark
 * only, which then stops them in order (agents first, their leftover sandboxes destroyed, then the
 * replicas, then Redis); if the benchmark exits at once (a second Ctrl-C), they are SIGKILLed as it
 * exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultTemplateDir, Runtime } from '@tartarus/runtime';
import { Tartarus } from '@tartarus/sdk';
import { bootstrap, openStore } from '@tartarus/server';
import type { PostgresServer } from '@tartarus/server/testing/postgres';
import { startRedis } from '@tartarus/server/testing/redis';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/tartarus.js', import.meta.url));
const SERVER_MAIN = fileURLToPath(new URL('../../apps/server/dist/main.js', import.meta.url));
const AGENT_MAIN = fileURLToPath(new URL('../../apps/agent/dist/main.js', import.meta.url));
/** How long a daemon may take to say it is ready, and all nodes to be up, ms. */
const START_TIMEOUT_MS = 60_000;
/** How long a daemon may take to exit after SIGTERM before it is SIGKILLed, ms. */
const STOP_TIMEOUT_MS = 60_000;
/** Output kept per daemon for error messages, characters. */
const OUTPUT_KEPT = 16_384;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** A daemon child process. */
interface Daemon {
  /** Resolves with the first match of `pattern` in its output; rejects if it exits first or after `START_TIMEOUT_MS`. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** SIGTERM, SIGKILL after `STOP_TIMEOUT_MS`; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

function startDaemon(what: string, args: string[], env: Record<string, string>): Daemon {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(proc);
  let out = '';
  let failed: Error | undefined;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiters) w();
  };
  const onData = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-OUTPUT_KEPT);
    wake();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) =>
    proc.once('close', () => {
      live.delete(proc);
      wake();
      resolve();
    }),
  );
  proc.once('error', (err) => {
    failed = err;
    live.delete(proc);
    wake();
  });
  let stopping: Promise<void> | undefined;
  return {
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`${what}: not ready within ${START_TIMEOUT_MS} ms; its output:\n${out}`)), START_TIMEOUT_MS);
        const check = (): void => {
          const m = pattern.exec(out);
          if (m) done(undefined, m);
          else if (failed) done(new Error(`${what}: ${failed.message}`));
          else if (!live.has(proc)) done(new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was ready; its output:\n${out}`));
        };
        const done = (err?: Error, m?: RegExpMatchArray): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (m) resolve(m);
          else reject(err);
        };
        waiters.add(check);
        check();
      }),
    stop: () =>
      (stopping ??= (async () => {
        if (!live.has(proc)) return;
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** Destroys every sandbox still in the runtime state dir `stateDir` (a stopped agent leaves them for re-adoption); returns how many. */
async function destroyLeftovers(stateDir: string): Promise<number> {
  const runtime = new Runtime({ stateDir, templateDir: defaultTemplateDir() });
  const left = await runtime.list().catch(() => []);
  for (const info of left) await runtime.destroy(info.runtime, info.id).catch(() => undefined);
  await runtime.cleanupOrphans().catch(() => undefined);
  return left.length;
}

/** A platform up and serving. */
export interface PlatformHandle {
  /** Base URLs of its servers (one for embedded), `http://127.0.0.1:PORT`. */
  urls: string[];
  /** An admin API key. */
  adminKey: string;
  /** Stops every process and destroys what sandboxes they left; resolves to how many there were. Idempotent. */
  stop(): Promise<number>;
}

/** Runs `fn` once however often the result is called. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/** Starts `tartarus up` on `dataDir` (kept across starts, as a user's is) with the shared template cache. */
export async function startEmbeddedPlatform(dataDir: string): Promise<PlatformHandle> {
  const up = startDaemon('tartarus up', [CLI, 'up', '--port', '0', '--stop-sandboxes'], {
    TARTARUS_DATA_DIR: dataDir,
    TARTARUS_TEMPLATE_DIR: defaultTemplateDir(),
  });
  const stop = once(async () => {
    await up.stop();
    return destroyLeftovers(join(dataDir, 'runtime'));
  });
  try {
    const url = (await up.waitFor(/Tartarus is up at (http:\/\/\S+)/))[1] as string;
    const adminKey = (await readFile(join(dataDir, 'admin-key'), 'utf8')).trim();
    return { urls: [url], adminKey, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A fresh PostgreSQL database with the default tenant and an admin key (`<dir>/admin-key`), as `tartarus server --create-admin-key` prepares one. */
export async function prepareDatabase(pg: PostgresServer, name: string, dir: string): Promise<{ database: string; adminKey: string }> {
  const database = await pg.createDatabase(name);
  const store = await openStore({ backend: 'postgres', connectionString: database });
  try {
    const { adminKey } = await bootstrap(store, dir);
    return { database, adminKey: adminKey ?? '' };
  } finally {
    await store.close();
  }
}

/** Options of `startDistributedPlatform`. */
export interface DistributedOptions {
  /** A database made by `prepareDatabase`, and its admin key. */
  database: string;
  adminKey: string;
  /** Server replicas, each its own process. */
  replicas: number;
  /** Agents, each its own process and state dir `<dir>/<nodeId>` (kept across starts, as a node's is). */
  agents: number;
  /** Node ids (and names) are `<prefix>-node-<i>`. */
  prefix: string;
  dir: string;
}

/** Starts Redis, the replicas, then the agents; resolves once every node is up. */
export async function startDistributedPlatform(o: DistributedOptions): Promise<PlatformHandle> {
  const redis = await startRedis();
  const nodes = Array.from({ length: o.agents }, (_, i) => ({ id: `${o.prefix}-node-${i + 1}`, token: randomBytes(24).toString('hex') }));
  const replicas: Daemon[] = [];
  const agents: Daemon[] = [];
  const stop = once(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    let left = 0;
    for (const n of nodes) left += await destroyLeftovers(join(o.dir, n.id));
    await Promise.all(replicas.map((r) => r.stop()));
    await redis.stop();
    return left;
  });
  try {
    for (let i = 0; i < o.replicas; i++) {
      replicas.push(
        startDaemon(`replica ${i + 1}`, [SERVER_MAIN, '--store', o.database, '--redis', redis.url, '--host', '127.0.0.1', '--port', '0'], {
          // Each node's own token (bound: it may say hello only as that node), out of `ps`.
          TARTARUS_AGENT_TOKENS: nodes.map((n) => `${n.id}=${n.token}`).join(','),
          TARTARUS_LOG_LEVEL: 'warn',
        }),
      );
    }
    const urls = await Promise.all(replicas.map(async (r) => (await r.waitFor(/listening on (http:\/\/\S+)/))[1] as string));
    for (const [i, n] of nodes.entries()) {
      const stateDir = join(o.dir, n.id);
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      agents.push(
        startDaemon(n.id, [AGENT_MAIN], {
          TARTARUS_SERVER_URL: `${(urls[i % urls.length] as string).replace(/^http/, 'ws')}/v1/agent/connect`,
          TARTARUS_AGENT_TOKEN: n.token,
          TARTARUS_NODE_ID: n.id,
          TARTARUS_NODE_NAME: n.id,
          TARTARUS_STATE_DIR: stateDir,
          TARTARUS_TEMPLATE_DIR: defaultTemplateDir(),
        }),
      );
    }
    await Promise.all(agents.map((a) => a.waitFor(/connected to/)));
    await allNodesUp(new Tartarus({ url: urls[0] as string, apiKey: o.adminKey }), nodes.map((n) => n.id));
    return { urls, adminKey: o.adminKey, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resolves once the platform lists every node of `ids` as up. */
async function allNodesUp(client: Tartarus, ids: string[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const up = new Set((await client.nodes.list()).filter((n) => n.status === 'up').map((n) => n.id));
    if (ids.every((id) => up.has(id))) return;
    if (Date.now() > deadline) throw new Error(`nodes not up within ${START_TIMEOUT_MS} ms: ${ids.filter((id) => !up.has(id)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
