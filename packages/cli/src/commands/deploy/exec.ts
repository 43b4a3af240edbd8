/**
 * `tartarus exec DEPLOYMENT SERVICE -- CMD ARGS...`: runs a command in one replica of a service
 * (a running one, or `--replica RUN`), prints its output and exits with its exit code — for
 * looking inside a deployment the way `tartarus sandbox exec` looks inside a sandbox.
 */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { ExitStatus } from '../../errors.js';
import { allOptions, durationFlag, envFlag } from '../../options.js';
import { printJson } from '../../output.js';
import { execExitStatus } from '../sandbox/exec.js';

interface Options {
  replica?: string;
  env?: Record<string, string>;
  cwd?: string;
  timeout?: number;
  json?: boolean;
}

/** Builds `tartarus exec`. */
export function deploymentExecCommand(): Command {
  return new Command('exec')
    .description("run a command in a replica of a deployment's service and exit with its exit code")
    .argument('<deployment>')
    .argument('<service>')
    .argument('<command...>', 'the program and its arguments (put them after --)')
    .option('--replica <run>', 'this replica (a run id from tartarus ps); default one that runs')
    .option('--env <NAME=VALUE>', 'environment variable (repeatable)', envFlag)
    .option('--cwd <dir>', 'absolute working directory')
    .option('--timeout <duration>', 'kill the command after this long (default 60s; 0: none)', durationFlag)
    .option('--json', 'print the result {exitCode, reason, stdout, stderr, durationMs, ...}')
    .action(async (name: string, service: string, argv: string[], _o: Options, self: Command) => {
      const o = allOptions<Options>(self);
      const client = await connect(o.dataDir);
      const result = await client.deployments.exec(name, service, argv, {
        ...(o.replica === undefined ? {} : { replica: o.replica }),
        ...(o.env === undefined ? {} : { env: o.env }),
        ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
        ...(o.timeout === undefined ? {} : { timeoutMs: o.timeout }),
      });
      if (o.json) printJson(result);
      else {
        process.stdout.write(result.stdout);
        process.stderr.write(result.stderr);
        if (result.reason !== 'exited') process.stderr.write(`error: command ${result.reason}${result.message ? ` (${result.message})` : ''}\n`);
      }
      throw new ExitStatus(execExitStatus(result));
    });
}
