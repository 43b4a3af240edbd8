/**
 * `tartarus` entry: parses argv, runs the command, and turns every failure into one line on
 * stderr and an exit status (see `errors.ts`). Returns the status instead of exiting, so that
 * open handles finish writing.
 */
import { CommanderError, type Command } from 'commander';
import { buildProgram } from './program.js';
import { ExitStatus, describeError, exitStatusFor } from './errors.js';

/** Applies the CLI's error handling to a command and all its subcommands. */
function configure(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (text, write) => write(text.endsWith('\n') ? text : `${text}\n`),
  });
  cmd.showSuggestionAfterError(true);
  for (const sub of cmd.commands) configure(sub);
}

/** Runs the CLI with `argv` (as in `process.argv`); resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  // `tartarus runs logs ID | head`: a closed pipe ends the output, it is not an error to report.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = buildProgram();
  configure(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its one-line message (or the help text).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof ExitStatus) return e.status;
    process.stderr.write(`error: ${describeError(e)}\n`);
    if (process.env.TARTARUS_DEBUG === '1' && e instanceof Error)
      process.stderr.write(`${e.stack ?? ''}\n`);
    return exitStatusFor(e);
  }
}
