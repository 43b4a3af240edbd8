/** `tartarus tenants create NAME`: creates a tenant. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { TENANT_COLUMNS } from './ls.js';
import { networkFields, snapshotFields, withQuotaFlags, type QuotaOptions } from './quota-flags.js';

/** Builds `tartarus tenants create`. */
export function createCommand(): Command {
  const cmd = withQuotaFlags(
    new Command('create')
      .description("create a tenant (defaults: 1000 queued runs, 50 sandboxes, 1 GiB of run output, the server's snapshot bytes)")
      .argument('<name>', 'tenant name'),
  );
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<QuotaOptions & { json?: boolean }>(self);
    const tenant = await (
      await connect(o.dataDir)
    ).tenants.create({
      name,
      maxQueuedRuns: o.maxQueuedRuns,
      maxConcurrentSandboxes: o.maxSandboxes,
      maxLogBytes: o.maxLogBytes,
      ...snapshotFields(o),
      ...networkFields(o),
    });
    if (o.json) printJson(tenant);
    else printTable([tenant], TENANT_COLUMNS);
  });
}
