/**
 * Migration 0002, the workload engine: tenants get a fair-share weight, a concurrency cap and
 * maximum limits; runs and sandboxes a priority (0 critical … 3 low) the queue orders by; nodes a
 * disk capacity. Specs stored by 0001-era code are rewritten into the compiled `WorkloadSpec`, so
 * every reader can parse every row with one schema.
 */
import { type Kysely, type Migration } from 'kysely';
import { WORKLOAD_DEFAULTS, type WorkloadSpec } from '@tartarus/core';

type Legacy = Record<string, unknown>;

function record(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null) return {};
  return Object.fromEntries(
    Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

function limitsOf(v: unknown): WorkloadSpec['limits'] {
  const given = typeof v === 'object' && v !== null ? (v as Partial<WorkloadSpec['limits']>) : {};
  return { ...WORKLOAD_DEFAULTS.limits, ...given };
}

/** A 0001 run spec (`{command: argv, shell?, template, …}`) or sandbox spec as a WorkloadSpec. */
export function upgradeSpec(old: Legacy, kind: 'run' | 'sandbox', row: Legacy): WorkloadSpec {
  const limits = limitsOf(old['limits']);
  const shell = typeof old['shell'] === 'string' ? old['shell'] : undefined;
  const argv = Array.isArray(old['command']) ? (old['command'] as string[]) : null;
  return {
    lifecycle: kind === 'run' ? 'once' : 'until-timeout',
    template: String(old['template'] ?? row['template'] ?? WORKLOAD_DEFAULTS.template),
    image: null,
    entrypoint: null,
    snapshot: null,
    hibernateAfterMs: null,
    // Work from before networking had loopback only.
    egress: 'none',
    public: false,
    networkGroup: null,
    runtime: String(old['runtime'] ?? row['runtime'] ?? WORKLOAD_DEFAULTS.runtime) as WorkloadSpec['runtime'],
    command: kind === 'run' ? (shell ?? argv) : null,
    env: record(old['env']),
    cwd: typeof old['cwd'] === 'string' ? old['cwd'] : null,
    user: typeof old['user'] === 'string' ? old['user'] : null,
    stdin: typeof old['stdin'] === 'string' ? old['stdin'] : null,
    limits,
    requests: {
      cpu: Math.min(WORKLOAD_DEFAULTS.requests.cpu, limits.cpu),
      memoryMiB: Math.min(WORKLOAD_DEFAULTS.requests.memoryMiB, limits.memoryMiB),
      diskMiB: 0,
    },
    timeoutMs:
      typeof old['timeoutMs'] === 'number'
        ? old['timeoutMs']
        : kind === 'run'
          ? WORKLOAD_DEFAULTS.runTimeoutMs
          : WORKLOAD_DEFAULTS.sandboxTimeoutMs,
    priority: 'default',
    maxAttempts: kind === 'run' ? Number(row['max_attempts'] ?? 3) : 1,
    nodeSelector: {},
    metadata: record(old['metadata']),
  };
}

async function rewriteSpecs(db: Kysely<unknown>, table: 'runs' | 'sandboxes'): Promise<void> {
  const k = db as unknown as Kysely<Record<string, Legacy>>;
  const rows = await k.selectFrom(table).selectAll().execute();
  for (const row of rows) {
    const old = JSON.parse(String(row['spec_json'])) as Legacy;
    if (typeof old['lifecycle'] === 'string') continue;
    const spec = upgradeSpec(old, table === 'runs' ? 'run' : 'sandbox', row);
    await k
      .updateTable(table)
      .set({ spec_json: JSON.stringify(spec) } as never)
      .where('id' as never, '=', row['id'] as never)
      .execute();
  }
}

/** The migration. */
export const engine: Migration = {
  async up(db) {
    await db.schema
      .alterTable('tenants')
      .addColumn('weight', 'double precision', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.alterTable('tenants').addColumn('max_running', 'integer').execute();
    await db.schema.alterTable('tenants').addColumn('max_limits_json', 'text').execute();
    for (const table of ['runs', 'sandboxes']) {
      await db.schema
        .alterTable(table)
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(2))
        .execute();
    }
    for (const col of ['capacity_disk_mib', 'used_disk_mib']) {
      await db.schema
        .alterTable('nodes')
        .addColumn(col, 'double precision', (c) => c.notNull().defaultTo(0))
        .execute();
    }
    // The queue reads the head of each tenant's backlog: by tenant, priority, then age.
    await db.schema
      .createIndex('runs_pending')
      .on('runs')
      .columns(['state', 'tenant_id', 'priority', 'created_at'])
      .execute();
    await db.schema
      .createIndex('sandboxes_pending')
      .on('sandboxes')
      .columns(['state', 'node_id', 'tenant_id', 'priority', 'created_at'])
      .execute();
    await rewriteSpecs(db, 'runs');
    await rewriteSpecs(db, 'sandboxes');
  },
};
