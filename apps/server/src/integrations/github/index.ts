/**
 * The GitHub integration, written on the plugin SDK: GitHub's webhook
 * (`POST /v1/integrations/github/webhook/:tenant`) is verified (`X-Hub-Signature-256`, HMAC-SHA256
 * of the raw body with the tenant's webhook secret, compared in constant time; missing or wrong is
 * a 401, logged), deduplicated by `X-GitHub-Delivery`, answers `ping`, and for `push` and
 * `pull_request` (opened, synchronize, reopened) starts the runs the tenant configured for that
 * repository, each in the commit's tree. Each run's result goes back as a commit status (pending,
 * then success, failure or error, linking to the run).
 */
import { constantTimeEqual, definePlugin, hmacSha256Hex, json, type PluginHost, type PluginRequest, type PluginResponse } from '@tartarus/plugin-sdk';
import { GithubConfigSchema, type GithubConfig, type GithubRepo } from './config.js';
import { commitStatus, fetchArchive, statusOfRun } from './api.js';

/** What a webhook asks for: a commit of a repository, for an event. */
interface Trigger {
  event: 'push' | 'pull_request';
  repo: string;
  sha: string;
  ref: string;
  branch: string | null;
}

/** A run started for a commit, remembered until its status is posted. */
interface Pending {
  repo: string;
  sha: string;
  context: string;
}

const PR_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

/** The commit a `push` or `pull_request` delivery is about; null for anything else. */
export function triggerOf(event: string, payload: Record<string, any>): Trigger | null { // eslint-disable-line @typescript-eslint/no-explicit-any
  const repo = String(payload.repository?.full_name ?? '');
  if (event === 'push' && typeof payload.after === 'string' && !/^0+$/.test(payload.after)) {
    const ref = String(payload.ref ?? '');
    return { event, repo, sha: payload.after, ref, branch: ref.startsWith('refs/heads/') ? ref.slice(11) : null };
  }
  if (event === 'pull_request' && PR_ACTIONS.has(String(payload.action)) && typeof payload.pull_request?.head?.sha === 'string') {
    return { event, repo, sha: payload.pull_request.head.sha, ref: `refs/pull/${payload.number}/head`, branch: null };
  }
  return null;
}

const problem = (status: number, code: string, message: string): PluginResponse => json(status, { error: { code, message } });

/** The webhook route. */
async function webhook(req: PluginRequest, host: PluginHost): Promise<PluginResponse> {
  const tenantId = req.params['tenant'] ?? '';
  const config = await host.config<GithubConfig>(tenantId).catch(() => null);
  if (config === null) return problem(404, 'not_found', `no GitHub integration for tenant ${tenantId}`);
  const delivery = req.headers['x-github-delivery'] ?? '';
  const signature = req.headers['x-hub-signature-256'];
  const secret = await host.secret(tenantId, config.webhookSecret);
  if (signature === undefined || !constantTimeEqual(signature, `sha256=${hmacSha256Hex(secret, req.rawBody)}`)) {
    host.log.warn({ tenantId, delivery, signature: signature === undefined ? 'missing' : 'wrong' }, 'github webhook refused: bad signature');
    return problem(401, 'unauthenticated', `X-Hub-Signature-256 is ${signature === undefined ? 'missing' : 'wrong'}: set the webhook's secret to the tenant secret ${config.webhookSecret}`);
  }
  if (delivery === '') return problem(400, 'invalid_argument', 'X-GitHub-Delivery is missing');
  if (!(await host.firstTime(tenantId, `delivery:${delivery}`))) return json(200, { duplicate: true, delivery });
  const event = req.headers['x-github-event'] ?? '';
  if (event === 'ping') return json(200, { pong: true });
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(req.rawBody.toString('utf8')) as Record<string, unknown>;
  } catch {
    return problem(400, 'invalid_argument', 'the delivery is not JSON: set the webhook content type to application/json');
  }
  const trigger = triggerOf(event, payload);
  if (trigger === null) return json(202, { ignored: `${event} ${String(payload['action'] ?? '')}`.trim() });
  const targets = config.repos.filter(
    (r) => r.repo.toLowerCase() === trigger.repo.toLowerCase() && r.events.includes(trigger.event) && (r.branches === undefined || trigger.branch === null || r.branches.includes(trigger.branch)),
  );
  const runs: string[] = [];
  try {
    for (const [i, target] of targets.entries()) runs.push(await start(host, tenantId, config, target, trigger, `github-${delivery}-${i}`));
  } catch (err) {
    // GitHub may redeliver; the runs already started are found again by their idempotency keys.
    await host.forget(tenantId, `delivery:${delivery}`);
    throw err;
  }
  return json(202, { runs });
}

/** Starts one configured run for the commit and posts its pending status. */
async function start(host: PluginHost, tenantId: string, config: GithubConfig, target: GithubRepo, t: Trigger, key: string): Promise<string> {
  const token = config.token === undefined ? undefined : await host.secret(tenantId, config.token);
  const env = { ...(target.run['env'] as Record<string, string> | undefined), GITHUB_REPOSITORY: t.repo, GITHUB_SHA: t.sha, GITHUB_REF: t.ref, GITHUB_EVENT_NAME: t.event };
  const run = { ...target.run, env, ...(target.checkout === 'archive' ? await inArchive(host, config, target, t, token) : {}) };
  const started = await host.submitRun(tenantId, run, key);
  await host.state.put(tenantId, `run:${started.id}`, { repo: t.repo, sha: t.sha, context: target.statusContext } satisfies Pending);
  await commitStatus(host, config, token, { repo: t.repo, sha: t.sha, state: 'pending', description: 'queued in Tartarus', context: target.statusContext, targetUrl: host.runUrl(started.id) });
  return started.id;
}

/** The run rewritten to start in the commit's tree: the archive on stdin, unpacked, then the command. */
async function inArchive(host: PluginHost, config: GithubConfig, target: GithubRepo, t: Trigger, token: string | undefined): Promise<Record<string, unknown>> {
  const archive = await fetchArchive(host, config, t.repo, t.sha, token);
  const unpack = 'set -e; mkdir -p /tmp/src; cd /tmp/src; base64 -d | tar -xzf -; cd "$(ls -d /tmp/src/*/ | head -n 1)"';
  const run = target.run as { command?: string; argv?: string[] };
  const argv = run.argv !== undefined ? ['sh', '-c', `${unpack}; exec "$@"`, 'checkout', ...run.argv] : ['sh', '-c', `${unpack}; exec sh -c "$1"`, 'checkout', run.command ?? 'true'];
  return { command: undefined, argv, stdin: archive.toString('base64') };
}

/** A run of a commit ended: its status goes to GitHub. */
async function finished(event: { tenantId: string; objectId: string; data: Record<string, unknown> }, host: PluginHost): Promise<void> {
  const pending = await host.state.get<Pending>(event.tenantId, `run:${event.objectId}`);
  if (pending === null) return;
  const config = await host.config<GithubConfig>(event.tenantId);
  if (config !== null) {
    const token = config.token === undefined ? undefined : await host.secret(event.tenantId, config.token);
    const s = statusOfRun(String(event.data['state']), event.data['exitCode']);
    await commitStatus(host, config, token, { ...pending, ...s, targetUrl: host.runUrl(event.objectId) });
  }
  await host.state.delete(event.tenantId, `run:${event.objectId}`);
}

/** The GitHub integration. */
export const github = definePlugin<GithubConfig>({
  name: 'github',
  description: 'Runs on push and pull request, results as commit statuses',
  configSchema: GithubConfigSchema,
  routes: [{ method: 'POST', path: '/webhook/:tenant', handler: webhook }],
  events: { types: ['run.finished'], handle: finished },
});
