/** `tartarus tenants ls`: every tenant with its quotas. */
import { Command } from 'commander';
import type { Tenant } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';
import { egressText } from '../network-policies/columns.js';

/** The columns shared by `tenants ls` and the single-tenant commands. */
export const TENANT_COLUMNS = [
  { header: 'id', get: (t: Tenant) => t.id },
  { header: 'name', get: (t: Tenant) => t.name },
  { header: 'max queued runs', get: (t: Tenant) => t.maxQueuedRuns },
  { header: 'max sandboxes', get: (t: Tenant) => t.maxConcurrentSandboxes },
  { header: 'log bytes kept / max', get: (t: Tenant) => `${t.logBytes} / ${t.maxLogBytes}` },
  { header: 'max snapshot bytes', get: (t: Tenant) => t.maxSnapshotBytes ?? "server's" },
  { header: 'max egress', get: (t: Tenant) => (t.maxEgress === null ? '-' : egressText(t.maxEgress)) },
  { header: 'created', get: (t: Tenant) => ago(t.createdAt) },
];

/** Builds `tartarus tenants ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls').alias('list').description('list tenants');
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).tenants.list();
    if (o.json) printJson(items);
    else printTable(items, TENANT_COLUMNS);
  });
}
