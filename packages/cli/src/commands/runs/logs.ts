/** `tartarus runs logs ID [-f]`: prints a run's output; with `-f` follows it until the run is final. */
import { Command } from 'commander';
import type { RunLogEntry } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions } from '../../options.js';

interface LogsOptions {
  follow?: boolean;
  json?: boolean;
}

function print(entry: RunLogEntry, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(entry)}\n`);
  else (entry.stream === 'stdout' ? process.stdout : process.stderr).write(entry.data);
}

/** Builds `tartarus runs logs`. */
export function logsCommand(): Command {
  return new Command('logs')
    .description("print a run's output (stdout to stdout, stderr to stderr)")
    .argument('<id>', 'run id')
    .option('-f, --follow', 'keep printing new output until the run is final')
    .option('--json', 'one JSON object per chunk: {seq, attempt, stream, data, timeMs}')
    .action(async (id: string, _o: unknown, self: Command) => {
      const o = allOptions<LogsOptions>(self);
      const client = await connect(o.dataDir);
      if (o.follow) {
        const logs = client.runs.followLogs(id);
        for (let step = await logs.next(); !step.done; step = await logs.next())
          print(step.value, o.json);
        return;
      }
      let since = 0;
      for (;;) {
        const page = await client.runs.logs(id, { since });
        for (const entry of page.items) print(entry, o.json);
        if (page.items.length === 0 || page.nextSince <= since) return;
        since = page.nextSince;
      }
    });
}
