/**
 * `tartarus sandbox exec ID -- CMD ARGS...`: runs a command in a running sandbox, streams its
 * output, and exits with its exit code.
 */
import { Command } from 'commander';
import type { CommandResult } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { ExitStatus } from '../../errors.js';
import { allOptions, durationFlag, envFlag } from '../../options.js';
import { printJson } from '../../output.js';

interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  timeout?: number;
  stdin?: boolean;
  json?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The command's exit code when it exited, else 124 for a timeout, 137 for a kill or OOM, 1 for an error. */
export function execExitStatus(r: CommandResult): number {
  switch (r.reason) {
    case 'exited':
      return r.exitCode ?? 1;
    case 'timeout':
      return 124;
    case 'killed':
    case 'oom':
      return 137;
    case 'error':
      return 1;
    default:
      return r.exitCode ?? 1;
  }
}

/** Builds `tartarus sandbox exec`. */
export function execCommand(): Command {
  return new Command('exec')
    .description('run a command in a running sandbox and exit with its exit code')
    .argument('<id>', 'sandbox id')
    .argument('<command...>', 'the program and its arguments (put them after --)')
    .option('--env <NAME=VALUE>', 'environment variable (repeatable)', envFlag)
    .option('--cwd <dir>', 'absolute working directory')
    .option('--user <user>', 'name, uid or uid:gid')
    .option(
      '--timeout <duration>',
      'kill the command after this long (default 60s; 0: none)',
      (t: string) => (t === '0' ? 0 : durationFlag(t)),
    )
    .option('-i, --stdin', "send this process's stdin to the command (up to 1 MiB)")
    .option(
      '--json',
      'print the result {exitCode, reason, stdout, stderr, durationMs, ...} instead of streaming',
    )
    .action(async (id: string, argv: string[], _o: ExecOptions, self: Command) => {
      const o = allOptions<ExecOptions>(self);
      const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
      const result = await sandbox.commands.run(argv, {
        env: o.env,
        cwd: o.cwd,
        user: o.user,
        timeoutMs: o.timeout,
        stdin: o.stdin ? await readStdin() : undefined,
        onStdout: o.json ? undefined : (d) => process.stdout.write(d),
        onStderr: o.json ? undefined : (d) => process.stderr.write(d),
      });
      if (o.json) printJson(result);
      else if (result.reason !== 'exited')
        process.stderr.write(
          `error: command ${result.reason}${result.message ? ` (${result.message})` : ''}\n`,
        );
      throw new ExitStatus(execExitStatus(result));
    });
}
