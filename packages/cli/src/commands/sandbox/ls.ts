/** `tartarus sandbox ls`: lists sandboxes, newest first. */
import { Command } from 'commander';
import { SANDBOX_STATES } from '@tartarus/core/base';
import type { SandboxInfo, SandboxStateName } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, choiceFlag, positiveIntFlag, withJson } from '../../options.js';
import { ago, printJson, printTable } from '../../output.js';

interface LsOptions {
  state?: SandboxStateName;
  limit?: number;
  json?: boolean;
}

const STATES = SANDBOX_STATES;

/** Builds `tartarus sandbox ls`. */
export function lsCommand(): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description('list sandboxes, newest first')
    .option('--state <state>', `only this state: ${STATES.join(', ')}`, choiceFlag(STATES))
    .option('--limit <n>', 'at most this many (default 50)', positiveIntFlag);
  return withJson(cmd).action(async (_o: LsOptions, self: Command) => {
    const o = allOptions<LsOptions>(self);
    const page = await (
      await connect(o.dataDir)
    ).sandboxes.list({ state: o.state, limit: o.limit });
    if (o.json) return printJson(page);
    printTable<SandboxInfo>(page.items, [
      { header: 'id', get: (s) => s.id },
      { header: 'state', get: (s) => s.state },
      { header: 'template', get: (s) => s.template },
      { header: 'runtime', get: (s) => s.runtime },
      { header: 'created', get: (s) => ago(s.createdAt) },
      { header: 'timeout at', get: (s) => s.timeoutAt },
    ]);
  });
}
