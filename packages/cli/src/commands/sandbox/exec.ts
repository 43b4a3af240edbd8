/**
 * `tartarus sandbox exec ID -- CMD ARGS...`: runs a command in a running sandbox, streams its
 * output, and exits with its exit code.
 */
import { Command } from 'commander';
import type { CommandOptions, CommandResult, Sandbox } from '@tartarus/sdk';
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

/**
 * Runs with live stdin over the exec WebSocket: this process's stdin is forwarded as it arrives
 * (so `-i` works with a pipe that stays open, or typed input), then closed at EOF.
 */
async function runInteractive(
  sandbox: Sandbox,
  argv: string[],
  options: CommandOptions,
): Promise<CommandResult> {
  const handle = await sandbox.commands.run(argv, { ...options, background: true });
  const forward = (chunk: Buffer) => handle.sendStdin(new Uint8Array(chunk));
  const close = () => handle.closeStdin();
  process.stdin.on('data', forward).once('end', close);
  try {
    return await handle.wait();
  } finally {
    process.stdin.off('data', forward).off('end', close);
    process.stdin.destroy();
  }
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
      durationFlag,
    )
    .option('-i, --stdin', "forward this process's stdin to the command as it arrives")
    .option(
      '--json',
      'print the result {exitCode, reason, stdout, stderr, durationMs, ...} instead of streaming',
    )
    .action(async (id: string, argv: string[], _o: ExecOptions, self: Command) => {
      const o = allOptions<ExecOptions>(self);
      const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
      const options: CommandOptions = {
        env: o.env,
        cwd: o.cwd,
        user: o.user,
        timeoutMs: o.timeout,
        onStdout: o.json ? undefined : (d) => process.stdout.write(d),
        onStderr: o.json ? undefined : (d) => process.stderr.write(d),
      };
      const result = o.stdin
        ? await runInteractive(sandbox, argv, options)
        : await sandbox.commands.run(argv, options);
      if (o.json) printJson(result);
      else if (result.reason !== 'exited')
        process.stderr.write(
          `error: command ${result.reason}${result.message ? ` (${result.message})` : ''}\n`,
        );
      throw new ExitStatus(execExitStatus(result));
    });
}
