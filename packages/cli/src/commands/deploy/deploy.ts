/**
 * `tartarus deploy FILE`: deploys a ZLayer V1 spec (its `$E:` values from this environment) and
 * shows progress until every service has its replicas of this revision ready — running, and
 * healthy when it has checks — (exit 0, with the public endpoints' URLs), a service fails or the
 * revision is rolled back (exit 1), or `--timeout` passes (exit 1). `--no-wait` returns once the
 * deployment is accepted.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import { envNamesOf, type Deployment } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { ExitStatus, UsageError } from '../../errors.js';
import { allOptions, durationFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** A spec file's text; a usage error naming the file when it cannot be read. */
export async function readSpec(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file} (${e.code ?? e.message})`);
  });
}

/** The `$E:` values a spec names, from this process's environment (missing ones are left for the server to name). */
export function deployEnv(spec: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of envNamesOf(spec)) if (process.env[name] !== undefined) env[name] = process.env[name] ?? '';
  return env;
}

/** One line per service: `api 1/2 ready (2 running)`, or a job or cron service with its schedule. */
function progress(d: Deployment): string {
  return d.services
    .map((s) => (s.kind === 'service' ? `${s.name} ${s.ready}/${s.desired} ready (${s.running} running)${s.failed ? ' (failed)' : ''}` : `${s.name} ${s.kind}${s.schedule ? ` ${s.schedule}` : ''}`))
    .join(', ');
}

/** Every service has its replicas of this revision taking traffic (healthy, when it has checks), and no other. */
const settled = (d: Deployment): boolean => d.services.every((s) => s.kind !== 'service' || (s.ready === s.desired && s.running === s.desired));

/** The public endpoints' URLs, a line each. */
function endpointLines(d: Deployment): string {
  return d.endpoints
    .filter((e) => e.url !== null)
    .map((e) => `  ${e.service}/${e.name}: ${e.hostUrl ?? e.url}\n`)
    .join('');
}

/** Warns on stderr of what the spec says that has no effect (as validate does); a refused spec is left for the server to name. */
async function printWarnings(spec: string, name: string): Promise<void> {
  const { loadDeployment, formatIssue } = await import('@tartarus/core/deploy');
  let warnings: ReturnType<typeof loadDeployment>['warnings'] = [];
  try {
    warnings = loadDeployment(spec, { file: name, env: process.env }).warnings;
  } catch {
    return;
  }
  for (const w of warnings) process.stderr.write(`warning: ${formatIssue(name, w)}\n`);
}

/** Builds `tartarus deploy`. */
export function deployCommand(): Command {
  const cmd = new Command('deploy')
    .description('deploy a ZLayer V1 spec (a new deployment, or a new revision rolled out replica by replica) and wait until its services are ready (running, healthy when checked); prints the public endpoints\' URLs')
    .argument('<file>', 'the spec (YAML or JSON); $E:NAME values come from this environment')
    .option('--no-wait', 'return once the deployment is accepted')
    .option('--timeout <duration>', 'how long to wait for the services (default 5m)', durationFlag);
  return withJson(cmd).action(async (file: string, _o: unknown, self: Command) => {
    const o = allOptions<{ wait: boolean; timeout?: number; json?: boolean }>(self);
    const spec = await readSpec(file);
    await printWarnings(spec, basename(file));
    const client = await connect(o.dataDir);
    let d = await client.deployments.apply(spec, { env: deployEnv(spec), file: basename(file) });
    const revision = d.revision;
    if (!o.wait) return o.json ? printJson(d) : void process.stdout.write(`deployed ${d.name} revision ${d.revision}\n${endpointLines(d)}`);
    const deadline = Date.now() + (o.timeout ?? 300_000);
    let last = '';
    for (;;) {
      const line = progress(d);
      if (line !== last && !o.json) process.stderr.write(`${d.name} r${d.revision}: ${line}\n`);
      last = line;
      if (d.revision !== revision) {
        process.stderr.write(`error: ${d.name} revision ${revision} was replaced by revision ${d.revision}${d.revision === revision + 1 ? ' (rolled back: its replicas never became healthy)' : ''}\n`);
        throw new ExitStatus(1);
      }
      if (settled(d)) break;
      if (d.services.some((s) => s.failed)) throw new ExitStatus(1);
      if (Date.now() > deadline) {
        process.stderr.write(`error: ${d.name} did not have all its replicas ready within the timeout\n`);
        throw new ExitStatus(1);
      }
      await new Promise((r) => setTimeout(r, 500));
      d = await client.deployments.get(d.name);
    }
    if (o.json) printJson(d);
    else process.stdout.write(`deployed ${d.name} revision ${d.revision}\n${endpointLines(d)}`);
  });
}
