/**
 * `tartarus run -- CMD ARGS...`: submits a run, streams its output live, and exits with the
 * workload's exit code (124 timeout, 137 out of memory, 130 cancelled, 1 for other failures).
 */
import { Command } from 'commander';
import type { Run, SubmitRunRequest, Tartarus } from '@tartarus/sdk';
import { connect } from '../connection.js';
import { ExitStatus } from '../errors.js';
import { allOptions, positiveIntFlag } from '../options.js';
import { printJson } from '../output.js';
import { sandboxFields, withSandboxFlags, type SandboxFlagOptions } from './sandbox/spec-flags.js';

interface RunOptions extends SandboxFlagOptions {
  stdin?: boolean;
  entrypoint?: string;
  maxAttempts?: number;
  detach?: boolean;
  json?: boolean;
}

/**
 * The exit status for a final run: its exit code when it exited on its own, else a conventional
 * code for why it was stopped (124 timeout, 137 out of memory, 130 cancelled, 1 otherwise).
 */
export function exitStatusOf(run: Run): number {
  switch (run.reason) {
    case 'exit':
      return run.exitCode ?? 1;
    case 'timeout':
      return 124;
    case 'oom':
      return 137;
    case 'cancelled':
      return 130;
    default:
      return run.exitCode ?? 1;
  }
}

/** One line saying why a run did not exit on its own (nothing when it did). */
function stopLine(run: Run): string | undefined {
  if (run.reason === 'exit') return undefined;
  const why =
    run.reason === 'timeout' ? `timed out after ${run.timeoutMs} ms` : (run.reason ?? 'unknown');
  const head =
    why === run.state ? `run ${run.id} ${run.state}` : `run ${run.id} ${run.state}: ${why}`;
  return `${head}${run.message ? ` (${run.message})` : ''}`;
}

function requestFrom(argv: string[], o: RunOptions): SubmitRunRequest {
  const req: SubmitRunRequest = { ...(argv.length > 0 ? { argv } : {}), ...sandboxFields(o) };
  // As Docker's --entrypoint: one program (an empty string clears the image's ENTRYPOINT).
  if (o.entrypoint !== undefined) req.entrypoint = o.entrypoint === '' ? [] : [o.entrypoint];
  if (o.maxAttempts !== undefined) req.maxAttempts = o.maxAttempts;
  return req;
}

/** All of this process's stdin as text (the API takes up to 1 MiB inline). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Builds `tartarus run`. */
export function runCommand(): Command {
  return withSandboxFlags(
    new Command('run')
      .description('run a command in a fresh sandbox, stream its output, exit with its exit code')
      .argument('[command...]', "the program and its arguments (put them after --); with --image, default the image's CMD"),
    {
      timeout: 'wall-clock limit, e.g. 30s, 5m (default 10m)',
      env: 'environment variable (repeatable)',
      egress: "none, or the tenant's default",
    },
  )
    .option('--entrypoint <program>', "replace the image's ENTRYPOINT (and its CMD); '' clears it")
    .option('-i, --stdin', "send this process's stdin to the command (up to 1 MiB)")
    .option(
      '--max-attempts <n>',
      'attempts before the run is dead-lettered (default 3)',
      positiveIntFlag,
    )
    .option('-d, --detach', 'print the run id and return without waiting')
    .option('--json', 'wait, then print {id, exitCode, reason, stdout, stderr, durationMs}')
    .addHelpText(
      'after',
      '\nExamples:\n  tartarus run -- echo hello\n  tartarus run --template python --timeout 30s -- python3 -c "print(1)"\n  tartarus run --image 127.0.0.1:5000/app:1 -- --port 8080',
    )
    .action(async (argv: string[], _o: RunOptions, cmd: Command) => {
      const o = allOptions<RunOptions>(cmd);
      const request = requestFrom(argv, o);
      const client = await connect(o.dataDir);
      if (o.stdin) request.stdin = await readStdin();
      if (o.detach) {
        const run = await client.runs.submit(request);
        if (o.json) printJson(run);
        else process.stdout.write(`${run.id}\n`);
        return;
      }
      if (o.json) {
        let run = await client.runs.submit(request, { wait: true });
        if (run.stdout === undefined) run = await client.runs.wait(run.id);
        const { id, exitCode, reason, stdout, stderr, durationMs } = run;
        printJson({ id, exitCode, reason, stdout: stdout ?? '', stderr: stderr ?? '', durationMs });
        throw new ExitStatus(exitStatusOf(run));
      }
      const submitted = await client.runs.submit(request);
      const run = await followOutput(client, submitted.id);
      const line = stopLine(run);
      if (line) process.stderr.write(`error: ${line}\n`);
      throw new ExitStatus(exitStatusOf(run));
    });
}

/** Follows the run's output to this process's stdout/stderr until it is final; Ctrl-C cancels the run. */
export async function followOutput(client: Tartarus, id: string): Promise<Run> {
  const onSigint = () => void client.runs.cancel(id).catch(() => undefined);
  process.on('SIGINT', onSigint);
  try {
    const logs = client.runs.followLogs(id);
    for (let step = await logs.next(); !step.done; step = await logs.next()) {
      (step.value.stream === 'stdout' ? process.stdout : process.stderr).write(step.value.data);
    }
    return await client.runs.get(id);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
