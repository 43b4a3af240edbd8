/** `tartarus webhooks create URL --type T…`: subscribes a URL to event types and prints its signing secret (shown this once). */
import { Command } from 'commander';
import { EVENT_TYPES } from '@tartarus/core/base';
import type { EventType } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, choiceFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** A repeatable `--type`, each one of the event types. */
export function typeOption(cmd: Command, what: string): Command {
  const typeFlag = choiceFlag(EVENT_TYPES);
  return cmd.option('--type <type>', `${what} (repeatable): ${EVENT_TYPES.join(', ')}`, (t: string, prev: EventType[] = []) => [...prev, typeFlag(t)]);
}

/** Builds `tartarus webhooks create`. */
export function createCommand(): Command {
  const cmd = new Command('create')
    .description('subscribe a URL to event types; its signing secret is printed once; needs an admin key')
    .argument('<url>', 'https:// (or http://) URL of a public address');
  return withJson(typeOption(cmd, 'an event type to deliver')).action(async (url: string, _o: unknown, self: Command) => {
    const o = allOptions<{ type?: EventType[]; json?: boolean }>(self);
    if (o.type === undefined) throw new UsageError('give at least one --type (e.g. --type run.finished)');
    const w = await (await connect(o.dataDir)).webhooks.create({ url, types: o.type });
    if (o.json) return printJson(w);
    process.stderr.write(`created ${w.id} for ${w.types.join(', ')}; its signing secret is shown only now:\n`);
    process.stdout.write(`${w.secret}\n`);
  });
}
