/**
 * The GitHub integration end to end (real runc, real HTTP): a stand-in for GitHub's API on
 * loopback serves commit tarballs and records commit statuses. Signatures are checked against
 * GitHub's published test vector, missing or wrong ones are 401s, a replayed delivery is run once;
 * a push runs the configured command in the commit's tree and ends in `success` with a link to the
 * run, a failing commit in `failure`; a bad config is a 400 naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';
import { startStandIn } from './stand-ins.js';

const GOOD = 'a'.repeat(40);
const BAD = 'b'.repeat(40);
const SECRET = "It's a Secret to Everybody";

/** A commit's tarball as GitHub serves it: one top directory holding the tree. */
async function tarball(sha: string, files: Record<string, string>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'tt-gh-'));
  try {
    const top = join(dir, `acme-app-${sha.slice(0, 7)}`);
    await mkdir(top);
    for (const [name, text] of Object.entries(files)) await writeFile(join(top, name), text);
    const r = spawnSync('tar', ['-czf', '-', '-C', dir, `acme-app-${sha.slice(0, 7)}`]);
    assert.equal(r.status, 0, String(r.stderr));
    return r.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sign = (body: string, secret = SECRET): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

test('GitHub: signatures, ping, replays, a push runs in its commit and ends as a commit status', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const archives: Record<string, Buffer> = {
    [GOOD]: await tarball(GOOD, { 'hello.txt': 'hello from the commit\n', ok: '' }),
    [BAD]: await tarball(BAD, { 'hello.txt': 'no ok file here\n' }),
  };
  const gh = await startStandIn((r) => {
    const m = /^\/repos\/acme\/app\/tarball\/(\w+)$/.exec(r.path);
    if (m) return archives[m[1] ?? ''] ? { status: 200, body: archives[m[1] ?? ''] as Buffer } : { status: 404, body: { message: 'Not Found' } };
    return { status: 201, body: {} };
  });
  try {
    await withEmbedded(
      async (h) => {
        const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
        assert.equal((await A('PUT', '/v1/secrets/gh-hook', { body: { value: SECRET } })).status, 200);
        assert.equal((await A('PUT', '/v1/secrets/gh-token', { body: { value: 'ghs_token' } })).status, 200);
        const repo = { repo: 'acme/app', run: { command: 'cat hello.txt && test -f ok', template: 'busybox' } };
        const bad = await A('PUT', '/v1/integrations/github/config', { body: { webhookSecret: 'gh-hook', apiBaseUrl: gh.url, repos: [{ ...repo, repo: 'not a repo' }] } });
        assert.equal(bad.status, 400);
        assert.match(bad.json.error.message, /^github config: repos\.0\.repo: repo must be owner\/name/);
        const cfg = await A('PUT', '/v1/integrations/github/config', { body: { webhookSecret: 'gh-hook', token: 'gh-token', apiBaseUrl: gh.url, repos: [repo] } });
        assert.equal(cfg.status, 200, cfg.text);
        assert.equal(cfg.json.repos[0].statusContext, 'tartarus', 'defaults are filled in');

        const hook = `${h.url}/v1/integrations/github/webhook/default`;
        const deliver = (event: string, body: string, headers: Record<string, string> = {}) =>
          fetch(hook, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': `d-${Math.random()}`, 'x-hub-signature-256': sign(body), ...headers } });
        // GitHub's published test vector: "Hello, World!" with this secret.
        assert.equal(sign('Hello, World!'), 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
        const ping = await deliver('ping', 'Hello, World!');
        assert.equal(ping.status, 200);
        assert.deepEqual(await ping.json(), { pong: true });
        const unsigned = await deliver('ping', '{}', { 'x-hub-signature-256': '' });
        assert.equal(unsigned.status, 401);
        const wrong = await deliver('ping', '{}', { 'x-hub-signature-256': sign('{}', 'another secret') });
        assert.equal(wrong.status, 401);
        assert.match(((await wrong.json()) as { error: { message: string } }).error.message, /X-Hub-Signature-256 is wrong/);

        const push = (sha: string) => JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { full_name: 'acme/app' } });
        const first = await deliver('push', push(GOOD), { 'x-github-delivery': 'delivery-1' });
        assert.equal(first.status, 202);
        const runId = ((await first.json()) as { runs: string[] }).runs[0] ?? '';
        assert.match(runId, /^run_/);
        // The same delivery again is not run again.
        const replay = await deliver('push', push(GOOD), { 'x-github-delivery': 'delivery-1' });
        assert.deepEqual(await replay.json(), { duplicate: true, delivery: 'delivery-1' });
        await deliver('push', push(BAD), { 'x-github-delivery': 'delivery-2' });
        const other = await deliver('issues', JSON.stringify({ action: 'opened' }), { 'x-github-delivery': 'delivery-3' });
        assert.equal(other.status, 202);
        assert.deepEqual(await other.json(), { ignored: 'issues opened' });

        const statuses = (sha: string) => gh.to(`/repos/acme/app/statuses/${sha}`).map((r) => JSON.parse(r.body) as { state: string; target_url: string; context: string });
        await eventually(async () => (statuses(GOOD).length === 2 && statuses(BAD).length === 2 ? true : undefined), 60_000, 'both final statuses');
        assert.deepEqual(statuses(GOOD).map((s) => s.state), ['pending', 'success']);
        assert.deepEqual(statuses(BAD).map((s) => s.state), ['pending', 'failure']);
        assert.equal(statuses(GOOD)[1]?.target_url, `${h.url}/runs/${runId}`);
        assert.equal(statuses(GOOD)[1]?.context, 'tartarus');
        assert.equal(gh.to('/repos/acme/app/statuses/')[0]?.headers.authorization, 'Bearer ghs_token');
        const logs = (await A('GET', `/v1/runs/${runId}/logs`)).json.items as { data: string }[];
        assert.equal(logs.map((l) => l.data).join(''), 'hello from the commit\n', "the run ran in the commit's tree");
        const run = (await A('GET', `/v1/runs/${runId}`)).json;
        assert.equal(run.state, 'succeeded');
        const refused = (await A('GET', '/v1/integrations')).json.items.find((i: { name: string }) => i.name === 'github');
        assert.equal(refused.configured, true);
      },
      { templateDir: testTemplateDir(), server: { webhookAllowedDestinations: ['127.0.0.0/8'] } },
    );
  } finally {
    await gh.close();
  }
});
