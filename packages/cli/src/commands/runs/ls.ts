/** `tartarus runs ls`: lists runs, newest first. */
import { Command } from 'commander';
import { RUN_STATES } from '@tartarus/core/base';
import type { Run, RunStateName } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, choiceFlag, positiveIntFlag, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

const STATES = RUN_STATES;

/** The command line of a run, for a table cell. */
function commandText(run: Run): string {
  const text = run.command ?? (run.argv ?? []).join(' ');
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** Builds `tartarus runs ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list runs, newest first')
    .option('--state <state>', `only this state: ${STATES.join(', ')}`, choiceFlag(STATES))
    .option('--limit <n>', 'at most this many (default 50)', positiveIntFlag);
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ state?: RunStateName; limit?: number; json?: boolean }>(self);
    const page = await (await connect(o.dataDir)).runs.list({ state: o.state, limit: o.limit });
    if (o.json) return printJson(page);
    printTable<Run>(page.items, [
      { header: 'id', get: (r) => r.id },
      { header: 'state', get: (r) => r.state },
      {
        header: 'exit',
        get: (r) =>
          r.reason && r.reason !== 'exit' ? `${r.exitCode ?? '-'} (${r.reason})` : r.exitCode,
      },
      { header: 'attempts', get: (r) => `${r.attempts}/${r.maxAttempts}` },
      { header: 'created', get: (r) => ago(r.createdAt) },
      {
        header: 'duration',
        get: (r) => (r.durationMs === null ? null : `${Math.round(r.durationMs)}ms`),
      },
      { header: 'command', get: commandText },
    ]);
  });
}
