/** `tartarus sandbox create`: creates a sandbox and prints its id once it is running. */
import { Command, Option } from 'commander';
import type { CreateSandboxRequest } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import {
  allOptions,
  choiceFlag,
  durationFlag,
  envFlag,
  positiveIntFlag,
  positiveNumberFlag,
  withJson,
} from '../../options.js';
import { printJson } from '../../output.js';

interface CreateOptions {
  template?: string;
  runtime?: 'container' | 'gvisor' | 'microvm';
  timeout?: number;
  memory?: number;
  cpu?: number;
  env?: Record<string, string>;
  json?: boolean;
}

/** Builds `tartarus sandbox create`. */
export function createCommand(): Command {
  const cmd = new Command('create')
    .description('create a sandbox and print its id once it is running')
    .option('--template <name>', 'root filesystem template (default busybox)')
    .addOption(
      new Option(
        '--runtime <runtime>',
        'container, gvisor or microvm (default container)',
      ).argParser(choiceFlag(['container', 'gvisor', 'microvm'] as const)),
    )
    .option(
      '--timeout <duration>',
      'killed this long after start unless extended (default 5m)',
      durationFlag,
    )
    .option('--memory <MiB>', 'memory limit in MiB (default 512)', positiveIntFlag)
    .option('--cpu <cores>', 'CPU limit in cores (default 1)', positiveNumberFlag)
    .option('--env <NAME=VALUE>', 'environment variable for every command (repeatable)', envFlag);
  return withJson(cmd).action(async (_o: CreateOptions, self: Command) => {
    const o = allOptions<CreateOptions>(self);
    const request: CreateSandboxRequest = {};
    if (o.template) request.template = o.template;
    if (o.runtime) request.runtime = o.runtime;
    if (o.timeout !== undefined) request.timeoutMs = o.timeout;
    if (o.env) request.env = o.env;
    if (o.memory !== undefined || o.cpu !== undefined)
      request.limits = { memoryMiB: o.memory, cpu: o.cpu };
    const sandbox = await (await connect(o.dataDir)).sandboxes.create(request);
    if (o.json) printJson(sandbox.info);
    else process.stdout.write(`${sandbox.id}\n`);
  });
}
