/**
 * `tartarus deployments events NAME [-f]`: what happened to a deployment (applied, replicas
 * started and ended, health, dependencies, scaled, rolled back, stopped), oldest first; `-f`
 * keeps following, resuming by itself after a dropped connection.
 */
import { Command } from 'commander';
import type { Event } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, positiveIntFlag, withJson } from '../../options.js';

/** What an event says, in a few words: `api run_… started on node-1`, `api: db healthy unmet`. */
export function describe(e: Event): string {
  const d = e.data as Record<string, string | number | boolean | null | undefined>;
  const who = d.runId === undefined ? `${d.service ?? ''}` : `${d.service} ${d.runId}`;
  switch (e.type) {
    case 'deployment.applied':
      return `revision ${d.revision}${d.created ? ' (created)' : ''}`;
    case 'deployment.replica.started':
      return `${who} started (${d.kind}, revision ${d.revision})`;
    case 'deployment.replica.ended':
      return `${who} ended: ${d.state}${d.exitCode === null || d.exitCode === undefined ? '' : `, exit ${d.exitCode}`}`;
    case 'deployment.replica.health':
      return `${who} ${d.health}${d.why ? ` (${d.why})` : ''}`;
    case 'deployment.dependency':
      return `${d.service}: ${d.dependency} ${d.condition} ${d.met ? 'met' : 'not met'}`;
    case 'deployment.scaled':
      return `${d.service} scaled to ${d.replicas}${d.by ? ` (${d.by})` : ''}`;
    default:
      return JSON.stringify(d);
  }
}

/** One event as a line for people. */
function line(e: Event): string {
  return `${e.id}  ${e.at}  ${e.type.replace(/^deployment\./, '').padEnd(15)}  ${describe(e)}\n`;
}

/** Builds `tartarus deployments events`. */
export function deploymentEventsCommand(): Command {
  const cmd = new Command('events')
    .description("what happened to a deployment, oldest first (or follow it live with -f)")
    .argument('<name>')
    .option('-f, --follow', 'keep printing events as they happen')
    .option('--after <id>', 'only events after this event id')
    .option('--limit <n>', 'at most this many (default 100; not with --follow)', positiveIntFlag);
  return withJson(cmd).action(async (name: string, _o: unknown, self: Command) => {
    const o = allOptions<{ follow?: boolean; after?: string; limit?: number; json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const print = (e: Event): boolean => process.stdout.write(o.json ? `${JSON.stringify(e)}\n` : line(e));
    if (!o.follow) {
      const page = await client.deployments.events(name, { after: o.after, limit: o.limit });
      if (o.json) return void process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      for (const e of page.items) print(e);
      return;
    }
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    // From the start (or --after): what happened so far, then what happens.
    for await (const e of client.deployments.followEvents(name, { after: o.after ?? '0', signal: ac.signal })) print(e);
  });
}
