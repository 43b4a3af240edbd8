/** `tartarus webhooks redeliver ID DELIVERY` and `tartarus webhooks ping ID`: one attempt now, its result printed. */
import { Command } from 'commander';
import type { WebhookDelivery } from '@tartarus/sdk';
import { connect } from '../../connection.js';
import { allOptions, withJson } from '../../options.js';
import { printJson } from '../../output.js';

function report(d: WebhookDelivery, json: boolean | undefined): void {
  if (json) return printJson(d);
  const answer = d.lastStatusCode === null ? 'no answer' : `HTTP ${d.lastStatusCode}`;
  process.stdout.write(`${d.id} ${d.state}: ${d.lastError ?? answer} in ${d.durationMs ?? 0} ms\n`);
  if (d.state === 'failed') process.exitCode = 1;
}

/** Builds `tartarus webhooks redeliver`. */
export function redeliverCommand(): Command {
  const cmd = new Command('redeliver')
    .description("send a delivery's event again, now, as a new delivery (exit 1 when it fails); needs an admin key")
    .argument('<id>', 'webhook id (whk_…)')
    .argument('<delivery>', 'delivery id (dlv_…), from `tartarus webhooks deliveries`');
  return withJson(cmd).action(async (id: string, delivery: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    report(await (await connect(o.dataDir)).webhooks.redeliver(id, delivery), o.json);
  });
}

/** Builds `tartarus webhooks ping`. */
export function pingCommand(): Command {
  const cmd = new Command('ping').description('send a signed ping now (exit 1 when it fails); needs an admin key').argument('<id>', 'webhook id (whk_…)');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean }>(self);
    report(await (await connect(o.dataDir)).webhooks.ping(id), o.json);
  });
}
