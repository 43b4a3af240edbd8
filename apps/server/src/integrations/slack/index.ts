/**
 * The Slack integration, written on the plugin SDK: slash commands at
 * `POST /v1/integrations/slack/commands/:tenant` are verified (`X-Slack-Signature`: `v0=` and the
 * HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the app's signing secret; a timestamp more than
 * 5 minutes off is refused as a replay) and answered at once — well within Slack's 3 s —:
 * `/tartarus status`, `/tartarus runs`, `/tartarus run <command>` (the result is posted to the
 * command's `response_url` when the run ends). Chosen events go to an incoming webhook.
 */
import type { Event } from '@tartarus/core';
import { constantTimeEqual, definePlugin, hmacSha256Hex, json, type PluginHost, type PluginRequest, type PluginResponse } from '@tartarus/plugin-sdk';
import { EVENT_TYPES } from '@tartarus/core';
import { SlackConfigSchema, type SlackConfig } from './config.js';

/** How far a request's timestamp may be from now, s (Slack's own advice). */
export const MAX_SKEW_S = 300;

/** A run started from Slack, remembered until its result is posted. */
interface Pending {
  responseUrl: string;
  command: string;
}

const problem = (status: number, message: string): PluginResponse => json(status, { error: { code: status === 401 ? 'unauthenticated' : 'invalid_argument', message } });
const reply = (text: string, inChannel = false): PluginResponse => json(200, { response_type: inChannel ? 'in_channel' : 'ephemeral', text });

/** Why a request is not Slack's (undefined when it is). */
export function slackSignatureProblem(secret: string, headers: Record<string, string | undefined>, rawBody: Buffer, nowS: number): string | undefined {
  const ts = headers['x-slack-request-timestamp'];
  const sig = headers['x-slack-signature'];
  if (ts === undefined || sig === undefined) return 'X-Slack-Request-Timestamp and X-Slack-Signature are required';
  if (!/^\d+$/.test(ts) || Math.abs(nowS - Number(ts)) > MAX_SKEW_S) return `the request timestamp is more than ${MAX_SKEW_S} s off (a replay?)`;
  const want = `v0=${hmacSha256Hex(secret, Buffer.concat([Buffer.from(`v0:${ts}:`), rawBody]))}`;
  return constantTimeEqual(sig, want) ? undefined : 'X-Slack-Signature is wrong';
}

/** The slash-command route. */
async function command(req: PluginRequest, host: PluginHost): Promise<PluginResponse> {
  const tenantId = req.params['tenant'] ?? '';
  const config = await host.config<SlackConfig>(tenantId).catch(() => null);
  if (config === null) return problem(404, `no Slack integration for tenant ${tenantId}`);
  const why = slackSignatureProblem(await host.secret(tenantId, config.signingSecret), req.headers, req.rawBody, Math.floor(Date.now() / 1000));
  if (why !== undefined) {
    host.log.warn({ tenantId, why }, 'slack command refused');
    return problem(401, why);
  }
  const form = new URLSearchParams(req.rawBody.toString('utf8'));
  const text = (form.get('text') ?? '').trim();
  const [verb, ...rest] = text.split(/\s+/);
  if (verb === 'status') {
    const s = await host.status(tenantId);
    return reply(`Runs: ${s.queuedRuns} queued, ${s.runningRuns} running · Sandboxes: ${s.liveSandboxes} live · Nodes up: ${s.nodesUp}`);
  }
  if (verb === 'runs') {
    const runs = await host.listRuns(tenantId, 5);
    const lines = runs.map((r) => `• <${host.runUrl(r.id)}|${r.id}> ${r.state}${r.exitCode === null ? '' : ` (exit ${r.exitCode})`}`);
    return reply(lines.length === 0 ? 'No runs yet.' : lines.join('\n'));
  }
  if (verb === 'run' && rest.length > 0) {
    const cmd = text.slice(4).trim();
    const key = `slack-${form.get('trigger_id') ?? req.headers['x-slack-request-timestamp']}`;
    const run = await host.submitRun(tenantId, { command: cmd, template: config.run.template, timeoutMs: config.run.timeoutMs }, key);
    const responseUrl = form.get('response_url');
    if (responseUrl) await host.state.put(tenantId, `run:${run.id}`, { responseUrl, command: cmd } satisfies Pending);
    return reply(`Started <${host.runUrl(run.id)}|${run.id}>: \`${cmd}\``, true);
  }
  return reply('Usage: `/tartarus status`, `/tartarus runs`, `/tartarus run <command>`');
}

/** Posts a message to a Slack URL (a response_url or an incoming webhook); a refusal is thrown (retried). */
async function post(host: PluginHost, url: string, body: object): Promise<void> {
  const res = await host.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`Slack answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  await res.arrayBuffer();
}

/** A line for people about an event. */
function describe(e: Event, host: PluginHost): string {
  const d = e.data;
  const what = e.type.startsWith('run.') ? `<${host.runUrl(e.objectId)}|${e.objectId}>` : e.objectId;
  const state = typeof d['state'] === 'string' ? ` ${d['state']}` : '';
  const exit = typeof d['exitCode'] === 'number' ? ` (exit ${d['exitCode']})` : '';
  return `${e.type}: ${what}${state}${exit}`;
}

/** Results of runs started from Slack, and the tenant's chosen notifications. */
async function onEvent(e: Event, host: PluginHost): Promise<void> {
  const config = await host.config<SlackConfig>(e.tenantId);
  if (config === null) return;
  if (e.type === 'run.finished') {
    const pending = await host.state.get<Pending>(e.tenantId, `run:${e.objectId}`);
    if (pending !== null) {
      await post(host, pending.responseUrl, { response_type: 'in_channel', text: `\`${pending.command}\`: ${describe(e, host)}` });
      await host.state.delete(e.tenantId, `run:${e.objectId}`);
    }
  }
  const wanted = config.notifyTypes.includes(e.type) && (config.notifyStates === undefined || config.notifyStates.includes(String(e.data['state'])));
  if (config.notifyWebhook !== undefined && wanted) await post(host, await host.secret(e.tenantId, config.notifyWebhook), { text: describe(e, host) });
}

/** The Slack integration. */
export const slack = definePlugin<SlackConfig>({
  name: 'slack',
  description: 'Slash commands (/tartarus status, runs, run) and notifications of chosen events',
  configSchema: SlackConfigSchema,
  routes: [{ method: 'POST', path: '/commands/:tenant', handler: command }],
  events: { types: EVENT_TYPES, handle: onEvent },
});
