/**
 * The battery's cluster: a PostgreSQL and a Redis started here, two server replicas (processes),
 * and two hosts (network namespaces) each running an agent connected to one replica. Scenarios
 * share it (booting it once keeps the battery's time bounded) and leave it as they found it:
 * every run final, no sandbox on any host (`leaks()`).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Runtime } from '@tartarus/runtime';
import { freePort } from '@tartarus/runtime/testing';
import { Tartarus } from '@tartarus/sdk';
import { bootstrap, openStore } from '@tartarus/server';
import { postgresUnavailable, startPostgres, type PostgresServer } from '@tartarus/server/testing/postgres';
import { redisUnavailable, startRedis, type RedisServer } from '@tartarus/server/testing/redis';
import { Host, hostsUnavailable } from './hosts.js';
import { Replica } from './replicas.js';

/** Network namespaces an agent's runtime keeps ready (packages/runtime/src/network/spares.ts). */
const SPARES_PER_AGENT = 2;

/** Why the battery cannot run here, or null. */
export function clusterUnavailable(): string | null {
  return hostsUnavailable() ?? postgresUnavailable() ?? redisUnavailable();
}

export interface ClusterOptions {
  rateLimitPerSec: number;
  rateLimitBurst: number;
}

/** Sandbox cgroups (`cgroup <hierarchy>/tartarus/<id>`) and network namespaces (`netns <name>`) on the machine. */
function machineSandboxes(): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    let ids: string[] = [];
    try {
      ids = readdirSync(`/sys/fs/cgroup/${h}/tartarus`).filter((id) => statSync(`/sys/fs/cgroup/${h}/tartarus/${id}`).isDirectory());
    } catch {
      continue;
    }
    for (const id of ids) out.push(`cgroup ${h}/tartarus/${id}`);
  }
  try {
    for (const n of readdirSync('/run/tartarus/netns')) out.push(`netns ${n}`);
  } catch {
    // none made yet
  }
  return out;
}

/** The running cluster. */
export class Cluster {
  readonly replicas: Replica[] = [];
  readonly hosts: Host[] = [];
  adminKey = '';
  /** Sandbox cgroups and namespaces on the machine before the cluster started (another suite's or run's, not the battery's). */
  private readonly before = new Set(machineSandboxes());

  private constructor(
    readonly dir: string,
    readonly pg: PostgresServer,
    readonly redis: RedisServer,
  ) {}

  /** Boots everything; on failure tears down what was started and throws. */
  static async start(o: ClusterOptions): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), 'tt-reliability-'));
    let pg: PostgresServer | undefined;
    let redis: RedisServer | undefined;
    let c: Cluster | undefined;
    try {
      pg = await startPostgres();
      redis = await startRedis();
      c = new Cluster(dir, pg, redis);
      const database = await pg.createDatabase('battery');
      const store = await openStore({ backend: 'postgres', connectionString: database });
      try {
        c.adminKey = (await bootstrap(store, dir)).adminKey ?? '';
      } finally {
        await store.close();
      }
      const token = randomBytes(24).toString('base64url');
      const settings = { database, redis: redis.url, token, secret: randomBytes(32).toString('base64url'), dir, ...o };
      for (const name of ['replica-a', 'replica-b']) c.replicas.push(new Replica(name, await freePort(), settings));
      for (const r of c.replicas) await r.start();
      for (const [i, r] of c.replicas.entries()) {
        const h = new Host(i + 1, `host-${i + 1}`, dir, token);
        c.hosts.push(h);
        h.create();
        h.startAgent(r.port);
      }
      await c.untilNodesUp();
      return c;
    } catch (err) {
      if (c !== undefined) await c.stop();
      else {
        await redis?.stop();
        await pg?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** A client of replica `i` as the admin. */
  client(i = 0, o: { apiKey?: string } = {}): Tartarus {
    return new Tartarus({ url: (this.replicas[i] as Replica).url, apiKey: o.apiKey ?? this.adminKey });
  }

  /** Waits until every host's node is up (through replica A or B, whichever answers). */
  async untilNodesUp(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const r of this.replicas.filter((x) => x.running)) {
        const nodes = await new Tartarus({ url: r.url, apiKey: this.adminKey }).nodes.list().catch(() => []);
        if (this.hosts.every((h) => nodes.some((n) => n.id === h.nodeId && n.status === 'up'))) return;
      }
      if (Date.now() > deadline) throw new Error('the hosts\' nodes did not come up');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** What is left on the machine by sandboxes: each host's sandboxes, and cgroups, mounts and namespaces of sandboxes. */
  async leaks(): Promise<string[]> {
    const out: string[] = [];
    for (const h of this.hosts) {
      const listed = await new Runtime({ stateDir: h.stateDir }).list().catch(() => []);
      for (const s of listed) out.push(`${h.nodeId}: sandbox ${s.id} (${s.runtime})`);
    }
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const m = line.split(' ')[4] ?? '';
      if (m.startsWith(this.dir)) out.push(`mount ${m}`);
    }
    // A running agent keeps a few network namespaces ready (its runtime's spares, `nsp_…`): those are not left over.
    const found = machineSandboxes().filter((x) => !this.before.has(x));
    const spares = found.filter((x) => x.startsWith('netns nsp_')).length;
    out.push(...found.filter((x) => !x.startsWith('netns nsp_')));
    if (spares > SPARES_PER_AGENT * this.hosts.length) out.push(`${spares} spare network namespaces (at most ${SPARES_PER_AGENT} per agent)`);
    return out;
  }

  /** Stops agents, replicas, Redis and PostgreSQL; removes hosts and the directory. */
  async stop(): Promise<void> {
    for (const h of this.hosts) await h.stopAgent();
    // Sandboxes an agent could not end (it was killed) go with a runtime over its state dir.
    for (const h of this.hosts) {
      const rt = new Runtime({ stateDir: h.stateDir });
      for (const s of await rt.list().catch(() => [])) await rt.destroy(s.runtime, s.id).catch(() => undefined);
      await rt.cleanupOrphans().catch(() => undefined);
      h.destroy();
    }
    for (const r of this.replicas) await r.stop();
    await this.redis.stop();
    await this.pg.stop();
    // TARTARUS_BATTERY_KEEP=1 keeps the replicas' and agents' logs (to look at a failure).
    if (process.env['TARTARUS_BATTERY_KEEP'] !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
