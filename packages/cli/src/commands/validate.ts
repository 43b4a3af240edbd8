/**
 * `tartarus validate FILE`: reads a deployment spec (ZLayer V1, YAML or JSON) as a deploy would —
 * parsed, checked and compiled, `$E:NAME` from this process's environment — without a server,
 * and prints its services. A spec error is one line `FILE:LINE: FIELD: what is wrong`, exit 2.
 * The spec parser (zod, yaml, croner) is loaded only here, so no other command pays for it.
 */
import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { ServicePlan } from '@tartarus/core';
import { UsageError } from '../errors.js';
import { allOptions, withJson } from '../options.js';
import { printJson, printTable } from '../output.js';

/** The text of FILE (`-`: stdin); an unreadable file is a usage error naming it. */
export async function readTextFile(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

/** Runs `fn`, turning a refused spec into a usage error (one line, exit 2). */
export async function specErrorsAsUsage<T>(fn: () => T): Promise<T> {
  const { DeploymentSpecError } = await import('@tartarus/core/deploy');
  try {
    return fn();
  } catch (e) {
    if (e instanceof DeploymentSpecError) throw new UsageError(e.message);
    throw e;
  }
}

function scaleText(s: ServicePlan['scale']): string {
  return s.mode === 'adaptive' ? `adaptive ${s.min}..${s.max}` : `${s.mode} ${s.replicas}`;
}

function endpointsText(s: ServicePlan): string {
  return s.endpoints
    .map(
      (e) =>
        `${e.name} ${e.protocol} ${e.port}${e.targetPort === e.port ? '' : `→${e.targetPort}`}${e.expose === 'public' ? ' public' : ''}`,
    )
    .join(', ');
}

/** Builds `tartarus validate`. */
export function validateCommand(): Command {
  const cmd = new Command('validate')
    .description(
      'check a deployment spec (ZLayer V1 YAML or JSON) as a deploy would, without a server, and list its services',
    )
    .argument('<file>', 'the spec file (- reads stdin)')
    .addHelpText(
      'after',
      '\n$E:NAME values are read from this environment: an unset one is an error. A spec error is one\nline "FILE:LINE: FIELD: what is wrong" and exit status 2; fields that have no effect are warned\nabout on stderr. The spec: docs/deployments.md.',
    );
  return withJson(cmd).action(async (file: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    const text = await readTextFile(file);
    const name = file === '-' ? '<stdin>' : file;
    const { loadDeployment, formatIssue } = await import('@tartarus/core/deploy');
    const { plan, warnings } = await specErrorsAsUsage(() =>
      loadDeployment(text, { file: name, env: process.env }),
    );
    for (const w of warnings) process.stderr.write(`warning: ${formatIssue(name, w)}\n`);
    if (o.json) return printJson({ plan, warnings });
    process.stdout.write(`${name}: deployment ${plan.name}, ${plan.services.length} service(s)\n`);
    printTable<ServicePlan>(plan.services, [
      { header: 'service', get: (s) => s.name },
      { header: 'kind', get: (s) => (s.schedule === null ? s.kind : `${s.kind} ${s.schedule}`) },
      { header: 'image', get: (s) => s.image },
      { header: 'scale', get: (s) => scaleText(s.scale) },
      { header: 'endpoints', get: endpointsText },
    ]);
  });
}
