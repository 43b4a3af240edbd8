/**
 * The other deployment verbs (ZLayer's where it has them): `deployments ls|get|rm`, `ps`,
 * `scale`, `stop`, `job trigger`, `cron ls|status`.
 */
import { Command } from 'commander';
import type { Deployment, DeploymentRun } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { ExitStatus, UsageError } from '../../errors.js';
import { allOptions, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';
import { exitStatusOf, followOutput } from '../run.js';
import { deploymentEventsCommand } from './events.js';
import { deploymentExecCommand } from './exec.js';

/** A service's dependencies: `db healthy`, `db healthy (not met)`. */
const dependencyText = (s: Deployment['services'][number]): string | null =>
  s.dependencies.length === 0 ? null : s.dependencies.map((x) => `${x.service} ${x.condition}${x.met ? '' : ' (not met)'}`).join(', ');

/** Lines naming each dependency not met now (reported, not acted on: running replicas stay). */
function unmetLines(d: Deployment): string {
  return d.services.flatMap((s) => s.dependencies.filter((x) => !x.met).map((x) => `${s.name}: dependency ${x.service} not ${x.condition}${s.running > 0 ? ' (its replicas keep running)' : ' (waiting for it)'}\n`)).join('');
}

const runColumns = [
  { header: 'service', get: (r: DeploymentRun) => r.service },
  { header: 'kind', get: (r: DeploymentRun) => r.kind },
  { header: 'run', get: (r: DeploymentRun) => r.runId },
  { header: 'state', get: (r: DeploymentRun) => r.state },
  { header: 'health', get: (r: DeploymentRun) => r.health },
  { header: 'exit', get: (r: DeploymentRun) => r.exitCode },
  { header: 'rev', get: (r: DeploymentRun) => r.revision },
  { header: 'started', get: (r: DeploymentRun) => ago(r.createdAt) },
];

function deploymentsCommand(): Command {
  const ls = withJson(new Command('ls').alias('list').description("list the tenant's deployments")).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).deployments.list();
    if (o.json) return printJson({ items });
    printTable<Deployment>(items, [
      { header: 'name', get: (d) => d.name },
      { header: 'state', get: (d) => d.state },
      { header: 'rev', get: (d) => d.revision },
      { header: 'services', get: (d) => d.services.map((s) => (s.kind === 'service' ? `${s.name} ${s.running}/${s.desired}` : `${s.name} (${s.kind})`)).join(', ') },
      { header: 'updated', get: (d) => ago(d.updatedAt) },
    ]);
  });
  const get = withJson(new Command('get').description('show a deployment and its services').argument('<name>')).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const d = await (await connect(o.dataDir)).deployments.get(name);
    if (o.json) return printJson(d);
    process.stdout.write(`${d.name}  ${d.state}  revision ${d.revision}\n`);
    printTable(d.services, [
      { header: 'service', get: (s) => s.name },
      { header: 'kind', get: (s) => s.kind },
      { header: 'running', get: (s) => (s.kind === 'service' ? `${s.running}/${s.desired}` : `${s.live} in flight`) },
      { header: 'ready', get: (s) => (s.kind === 'service' ? `${s.ready}/${s.desired}` : null) },
      { header: 'schedule', get: (s) => s.schedule },
      { header: 'depends', get: dependencyText },
      { header: 'image', get: (s) => s.image },
    ]);
    process.stdout.write(unmetLines(d));
    if (d.endpoints.length > 0) {
      process.stdout.write('\n');
      printTable(d.endpoints, [
        { header: 'endpoint', get: (e) => `${e.service}/${e.name}` },
        { header: 'protocol', get: (e) => e.protocol },
        { header: 'expose', get: (e) => e.expose },
        { header: 'port', get: (e) => (e.port === e.targetPort ? e.port : `${e.port}→${e.targetPort}`) },
        { header: 'url', get: (e) => e.hostUrl ?? e.url },
      ]);
    }
  });
  const rm = new Command('rm').alias('delete').description('stop a deployment (SIGTERM, then SIGKILL) and remove it').argument('<name>').action(async (name: string, _o: unknown, self: Command) => {
    const client = await connect(allOptions<object>(self).dataDir);
    let d = await client.deployments.stop(name);
    const deadline = Date.now() + 120_000;
    while (d.state !== 'stopped' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      d = await client.deployments.get(name);
    }
    await client.deployments.remove(name);
    process.stdout.write(`removed ${name}\n`);
  });
  return new Command('deployments').description('deployments of ZLayer V1 specs (tartarus deploy FILE creates one)').addCommand(ls).addCommand(get).addCommand(rm).addCommand(deploymentEventsCommand());
}

function psCommand(): Command {
  return withJson(new Command('ps').description("a deployment's runs that have not ended: replicas, jobs and cron runs in flight").argument('<deployment>').option('-a, --all', 'also the ended ones (history)')).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ all?: boolean; json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const items = await client.deployments.runs(name, { live: !o.all });
    if (o.json) return printJson({ items });
    printTable(items, runColumns);
    process.stdout.write(unmetLines(await client.deployments.get(name)));
  });
}

function scaleCommand(): Command {
  return new Command('scale').description("set a service's replicas").argument('<deployment>').argument('<service>').argument('<replicas>').action(async (name: string, service: string, n: string, _o: unknown, self: Command) => {
    const replicas = Number(n);
    if (!Number.isInteger(replicas) || replicas < 0) throw new UsageError(`"${n}" is not a number of replicas (0 or more)`);
    await (await connect(allOptions<object>(self).dataDir)).deployments.scale(name, service, replicas);
    process.stdout.write(`${name}/${service}: ${replicas} replicas\n`);
  });
}

function stopCommand(): Command {
  return new Command('stop').description('stop a deployment (its runs get SIGTERM, then SIGKILL), or one service of it').argument('<deployment>').option('--service <name>', 'only this service (scaled to 0)').action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ service?: string }>(self);
    await (await connect(o.dataDir)).deployments.stop(name, o.service === undefined ? {} : { service: o.service });
    process.stdout.write(`stopping ${name}${o.service ? `/${o.service}` : ''}\n`);
  });
}

function jobCommand(): Command {
  const trigger = new Command('trigger').description("run a job once, stream its output, exit with its exit code").argument('<deployment>').argument('<service>').option('-d, --detach', 'print the run id and return').action(async (name: string, service: string, _o: unknown, self: Command) => {
    const o = allOptions<{ detach?: boolean }>(self);
    const client = await connect(o.dataDir);
    const started = await client.deployments.trigger(name, service, { wait: false });
    if (o.detach) return void process.stdout.write(`${started.runId}\n`);
    throw new ExitStatus(exitStatusOf(await followOutput(client, started.runId)));
  });
  return new Command('job').description("a deployment's jobs").addCommand(trigger);
}

function cronCommand(): Command {
  const ls = withJson(new Command('ls').alias('list').description('cron services of every deployment, with their last run').argument('[deployment]')).action(async (only: string | undefined, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const deployments = (await client.deployments.list()).filter((d) => only === undefined || d.name === only);
    const rows: { deployment: string; service: string; schedule: string | null; last?: DeploymentRun }[] = [];
    for (const d of deployments)
      for (const s of d.services.filter((x) => x.kind === 'cron')) {
        const [last] = await client.deployments.runs(d.name, { service: s.name });
        rows.push({ deployment: d.name, service: s.name, schedule: s.schedule, ...(last ? { last } : {}) });
      }
    if (o.json) return printJson({ items: rows });
    printTable(rows, [
      { header: 'deployment', get: (r) => r.deployment },
      { header: 'service', get: (r) => r.service },
      { header: 'schedule', get: (r) => r.schedule },
      { header: 'last tick', get: (r) => r.last?.tick ?? null },
      { header: 'last state', get: (r) => r.last?.state ?? null },
    ]);
  });
  const status = withJson(new Command('status').description("a cron service's runs, newest first").argument('<deployment>').argument('<service>')).action(async (name: string, service: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const items = await (await connect(o.dataDir)).deployments.runs(name, { service });
    if (o.json) return printJson({ items });
    printTable(items, runColumns);
  });
  return new Command('cron').description("deployments' cron services").addCommand(ls).addCommand(status);
}

/** The deployment verbs other than `deploy`. */
export function deploymentCommands(): Command[] {
  return [deploymentsCommand(), psCommand(), scaleCommand(), stopCommand(), jobCommand(), cronCommand(), deploymentExecCommand()];
}
