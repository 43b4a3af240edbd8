/** `tartarus tenants update ID`: changes a tenant's name or quotas. */
import { Command } from 'commander';
import type { PatchTenantRequest } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { printJson, printTable } from '../../output.js';
import { TENANT_COLUMNS } from './ls.js';
import { networkFields, snapshotFields, withQuotaFlags, type QuotaOptions } from './quota-flags.js';

/** Builds `tartarus tenants update`. */
export function updateCommand(): Command {
  const cmd = withQuotaFlags(
    new Command('update')
      .description("change a tenant's name, quotas or network settings")
      .argument('<id>', 'tenant id')
      .option('--name <name>', 'new name'),
  );
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<QuotaOptions & { name?: string; json?: boolean }>(self);
    const patch: PatchTenantRequest = {};
    if (o.name !== undefined) patch.name = o.name;
    if (o.maxQueuedRuns !== undefined) patch.maxQueuedRuns = o.maxQueuedRuns;
    if (o.maxSandboxes !== undefined) patch.maxConcurrentSandboxes = o.maxSandboxes;
    if (o.maxLogBytes !== undefined) patch.maxLogBytes = o.maxLogBytes;
    Object.assign(patch, snapshotFields(o), networkFields(o));
    if (Object.keys(patch).length === 0)
      throw new UsageError(
        'nothing to change: give --name, --max-queued-runs, --max-sandboxes, --max-log-bytes, --max-snapshot-bytes, --max-egress, --default-sandbox-egress or --default-run-egress',
      );
    const tenant = await (await connect(o.dataDir)).tenants.update(id, patch);
    if (o.json) printJson(tenant);
    else printTable([tenant], TENANT_COLUMNS);
  });
}
