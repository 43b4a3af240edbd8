/** `tartarus sandbox create`: creates a sandbox and prints its id once it is running. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, durationFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';
import { sandboxFields, withSandboxFlags, type SandboxFlagOptions } from './spec-flags.js';

interface CreateOptions extends SandboxFlagOptions {
  json?: boolean;
  public?: boolean;
  networkGroup?: string;
  snapshot?: string;
  hibernateAfter?: number;
}

/** Builds `tartarus sandbox create`. */
export function createCommand(): Command {
  const cmd = withSandboxFlags(
    new Command('create').description('create a sandbox and print its id once it is running'),
    {
      timeout: 'killed this long after start unless extended (default 5m)',
      env: 'environment variable for every command (repeatable)',
      egress: "all, or the tenant's default",
    },
  );
  cmd.option('--public', "its ports are reachable through the proxy without a key or token (tartarus sandbox url)");
  cmd.option('--network-group <name>', "a group of this tenant's sandboxes that may reach each other (needs a network)");
  cmd.option('--hibernate-after <duration>', 'hibernate it after this long without an exec, file call or proxied connection, e.g. 10m (microvm)', durationFlag);
  cmd.option('--snapshot <id>', "start from a snapshot's files (tartarus sandbox snapshot ID); its template and runtime, on its node");
  return withJson(cmd).action(async (_o: CreateOptions, self: Command) => {
    const o = allOptions<CreateOptions>(self);
    const fields = sandboxFields(o); // a usage error before connecting
    const sandbox = await (await connect(o.dataDir)).sandboxes.create({ ...fields, ...(o.public ? { public: true } : {}), ...(o.networkGroup === undefined ? {} : { networkGroup: o.networkGroup }), ...(o.snapshot === undefined ? {} : { snapshot: o.snapshot }), ...(o.hibernateAfter === undefined ? {} : { hibernateAfterMs: o.hibernateAfter }) });
    if (o.json) printJson(sandbox.info);
    else process.stdout.write(`${sandbox.id}\n`);
  });
}
