/**
 * The Slack integration and a plugin of one's own, end to end (real runc, real HTTP): Slack's
 * published signature test vector; stale and wrong signatures refused; `/tartarus status`, `runs`
 * and `run <command>` answered at once, the run's result posted to the command's response URL (a
 * stand-in on loopback) and a notification to the incoming webhook; and a plugin loaded from
 * `pluginDir` gets its route and the bus's events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slackSignatureProblem } from '@tartarus/server';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';
import { startStandIn } from './stand-ins.js';

const SIGNING = 'slack-signing-secret-for-the-test';

/** A plugin module with no imports (it is loaded from a directory outside the repository). */
const ECHO_PLUGIN = `
const schema = { safeParse: (v) => ({ success: true, data: v }), parse: (v) => v };
export default {
  name: 'echo',
  description: 'answers its route with the last run that finished',
  configSchema: schema,
  routes: [{ method: 'GET', path: '/last/:tenant', handler: async (req, host) => ({ status: 200, body: { last: await host.state.get(req.params.tenant, 'last') } }) }],
  events: { types: ['run.finished'], handle: async (e, host) => host.state.put(e.tenantId, 'last', { run: e.objectId, state: e.data.state }) },
};
`;

test("Slack's signature test vector", () => {
  // From Slack's "Verifying requests from Slack".
  const body = Buffer.from('token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c');
  const headers = { 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' };
  assert.equal(slackSignatureProblem('8f742231b10e8888abcd99yyyzzz85a5', headers, body, 1531420618), undefined);
  assert.match(slackSignatureProblem('8f742231b10e8888abcd99yyyzzz85a5', headers, body, 1531420618 + 301) ?? '', /more than 300 s off/);
  assert.match(slackSignatureProblem('another', headers, body, 1531420618) ?? '', /X-Slack-Signature is wrong/);
});

test('Slack commands and notifications; a plugin from pluginDir', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const slack = await startStandIn();
  const pluginDir = await mkdtemp(join(tmpdir(), 'tt-plugins-'));
  await writeFile(join(pluginDir, 'echo.mjs'), ECHO_PLUGIN);
  try {
    await withEmbedded(
      async (h) => {
        const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
        await A('PUT', '/v1/secrets/slack-signing', { body: { value: SIGNING } });
        await A('PUT', '/v1/secrets/slack-hook', { body: { value: `${slack.url}/services/hook` } });
        const cfg = await A('PUT', '/v1/integrations/slack/config', { body: { signingSecret: 'slack-signing', notifyWebhook: 'slack-hook', notifyStates: ['failed'] } });
        assert.equal(cfg.status, 200, cfg.text);
        assert.equal((await A('PUT', '/v1/integrations/echo/config', { body: {} })).status, 200);

        const command = (text: string, o: { ts?: number; secret?: string } = {}) => {
          const body = new URLSearchParams({ command: '/tartarus', text, response_url: `${slack.url}/respond/${encodeURIComponent(text)}`, trigger_id: `t-${Math.random()}` }).toString();
          const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
          const sig = `v0=${createHmac('sha256', o.secret ?? SIGNING).update(`v0:${ts}:${body}`).digest('hex')}`;
          return fetch(`${h.url}/v1/integrations/slack/commands/default`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig } });
        };
        assert.equal((await command('status', { ts: Math.floor(Date.now() / 1000) - 600 })).status, 401, 'a stale timestamp is a replay');
        assert.equal((await command('status', { secret: 'wrong' })).status, 401);
        const status = (await (await command('status')).json()) as { response_type: string; text: string };
        assert.equal(status.response_type, 'ephemeral');
        assert.match(status.text, /^Runs: \d+ queued, \d+ running · Sandboxes: \d+ live · Nodes up: 1$/);

        const started = Date.now();
        const run = (await (await command('run echo from slack')).json()) as { response_type: string; text: string };
        // Slack wants an answer within 3 s, so the command does not wait for its run; the bound is
        // 10 s here, so that a stall of a loaded machine is not taken for waiting.
        assert.ok(Date.now() - started < 10_000, 'answered without waiting for the run');
        assert.equal(run.response_type, 'in_channel');
        const runId = /\|(run_[a-z0-9]+)>/.exec(run.text)?.[1] ?? '';
        assert.ok(runId, run.text);
        const result = await eventually(async () => slack.to('/respond/run')[0], 30_000, 'the result at the response URL');
        assert.match(JSON.parse(result.body).text, new RegExp(`^\`echo from slack\`: run.finished: <[^|]+/runs/${runId}\\|${runId}> succeeded \\(exit 0\\)$`));
        const list = (await (await command('runs')).json()) as { text: string };
        assert.match(list.text, new RegExp(`${runId}> succeeded`));
        assert.match(((await (await command('dance')).json()) as { text: string }).text, /^Usage:/);

        // Only failed runs are notified (notifyStates).
        await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'exit 4' } });
        const note = await eventually(async () => slack.to('/services/hook')[0], 30_000, 'the notification');
        assert.match(JSON.parse(note.body).text, /run\.finished: .* failed \(exit 4\)/);
        assert.equal(slack.to('/services/hook').length, 1, 'the successful run was not notified');

        // The plugin from pluginDir: listed, its route answers, it received the bus's events.
        const listed = (await A('GET', '/v1/integrations')).json.items.map((i: { name: string }) => i.name);
        assert.deepEqual(listed, ['github', 'slack', 'echo']);
        const last = await eventually(async () => {
          const r = (await (await fetch(`${h.url}/v1/integrations/echo/last/default`)).json()) as { last: { state: string } | null };
          return r.last?.state === 'failed' ? r.last : undefined;
        }, 10_000, 'the plugin saw the last run');
        assert.equal(last.state, 'failed');
      },
      { templateDir: testTemplateDir(), server: { webhookAllowedDestinations: ['127.0.0.0/8'], pluginDir } },
    );
  } finally {
    await slack.close();
    await rm(pluginDir, { recursive: true, force: true });
  }
});
