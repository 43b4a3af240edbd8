/**
 * `tartarus events`: the event bus — state changes in order (`run.finished`, `sandbox.ended`,
 * `node.down`, …), listed or followed live (`-f`, resuming by itself after a dropped connection).
 */
import { Command } from 'commander';
import { EVENT_TYPES } from '@tartarus/core/base';
import type { Event, EventType } from '@tartarus/sdk';
import { connect } from '../connection.js';
import { allOptions, choiceFlag, positiveIntFlag, withJson } from '../options.js';

/** One event as a line for people: id, time, type, object, then what changed. */
function line(e: Event): string {
  return `${e.id}  ${e.at}  ${e.type.padEnd(15)}  ${e.objectId}  ${JSON.stringify(e.data)}\n`;
}

/** Builds `tartarus events`. */
export function eventsCommand(): Command {
  const typeFlag = choiceFlag(EVENT_TYPES);
  const cmd = new Command('events')
    .description('list state changes in order (run queued/started/finished, sandbox created/ended, nodes, templates), or follow them live')
    .option('-f, --follow', 'keep printing events as they happen (from now, or after --after)')
    .option('--type <type>', `only this type (repeatable): ${EVENT_TYPES.join(', ')}`, (t: string, prev: EventType[] = []) => [...prev, typeFlag(t)])
    .option('--object <id>', 'only events about this run, sandbox, node or template')
    .option('--after <id>', 'only events after this event id')
    .option('--limit <n>', 'at most this many (default 100; not with --follow)', positiveIntFlag);
  return withJson(cmd).action(async (_o: unknown, self: Command) => {
    const o = allOptions<{ follow?: boolean; type?: EventType[]; object?: string; after?: string; limit?: number; json?: boolean }>(self);
    const client = await connect(o.dataDir);
    const options = { types: o.type, object: o.object, after: o.after };
    const print = (e: Event): boolean => process.stdout.write(o.json ? `${JSON.stringify(e)}\n` : line(e));
    if (!o.follow) {
      const page = await client.events.list({ ...options, limit: o.limit });
      if (o.json && !o.follow) return void process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      for (const e of page.items) print(e);
      return;
    }
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    for await (const e of client.events.stream({ ...options, signal: ac.signal })) print(e);
  });
}
