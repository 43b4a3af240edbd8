/**
 * The flags shared by `tartarus run` and `tartarus sandbox create`: what a workload runs in
 * (template, runtime, timeout, limits, environment) and the request fields they become.
 */
import { Option, type Command } from 'commander';
import { RUNTIME_NAMES } from '@tartarus/core/base';
import type { CreateSandboxRequest } from '@tartarus/sdk';
import { UsageError } from '../../errors.js';
import {
  choiceFlag,
  durationFlag,
  egressFlag,
  envFlag,
  positiveIntFlag,
  positiveNumberFlag,
} from '../../options.js';

/** Values of the sandbox flags. */
export interface SandboxFlagOptions {
  template?: string;
  image?: string;
  user?: string;
  runtime?: (typeof RUNTIME_NAMES)[number];
  timeout?: number;
  memory?: number;
  cpu?: number;
  env?: Record<string, string>;
  egress?: 'none' | 'all' | string[];
  networkPolicy?: string;
}

/**
 * Adds `--template`, `--runtime`, `--timeout`, `--memory`, `--cpu`, `--env`, `--egress` and
 * `--network-policy`. `help` words the three whose meaning differs by command (the default
 * timeout and egress; whom the environment is for).
 */
export function withSandboxFlags(cmd: Command, help: { timeout: string; env: string; egress: string }): Command {
  return cmd
    .option('--template <name>', 'root filesystem template (default busybox)')
    .option('--image <ref>', 'start from an OCI image instead, e.g. nginx:1.25 (pulled on first use)')
    .option('--user <user>', "run as this user: name, uid, name:group or uid:gid (default the template's)")
    .addOption(
      new Option(
        '--runtime <runtime>',
        'isolation: container, gvisor or microvm (default container)',
      ).argParser(choiceFlag(RUNTIME_NAMES)),
    )
    .option('--timeout <duration>', help.timeout, durationFlag)
    .option('--memory <MiB>', 'memory limit in MiB (default 512)', positiveIntFlag)
    .option(
      '--cpu <cores>',
      'CPU limit in cores, fractions allowed (default 1)',
      positiveNumberFlag,
    )
    .option('--env <NAME=VALUE>', help.env, envFlag)
    .option(
      '--egress <policy>',
      `what it may reach: none, all, or destinations separated by commas (IPv4, CIDR or DNS name, each with an optional :port), e.g. pypi.org:443,10.0.0.0/8 (default ${help.egress})`,
      egressFlag,
    )
    .option('--network-policy <name>', 'instead of --egress: the egress of this stored network policy (tartarus network-policies ls)');
}

type SandboxFields = Pick<
  CreateSandboxRequest,
  'template' | 'image' | 'user' | 'runtime' | 'timeoutMs' | 'env' | 'limits' | 'egress' | 'networkPolicy'
>;

/** The request fields of the flags given (the server's defaults stand for the others). */
export function sandboxFields(o: SandboxFlagOptions): SandboxFields {
  if (o.egress !== undefined && o.networkPolicy !== undefined)
    throw new UsageError('give --egress or --network-policy, not both');
  const fields: SandboxFields = {};
  if (o.template) fields.template = o.template;
  if (o.image) fields.image = o.image;
  if (o.user) fields.user = o.user;
  if (o.runtime) fields.runtime = o.runtime;
  if (o.timeout !== undefined) fields.timeoutMs = o.timeout;
  if (o.env) fields.env = o.env;
  if (o.egress !== undefined) fields.egress = o.egress;
  if (o.networkPolicy !== undefined) fields.networkPolicy = o.networkPolicy;
  if (o.memory !== undefined || o.cpu !== undefined)
    fields.limits = { memoryMiB: o.memory, cpu: o.cpu };
  return fields;
}
