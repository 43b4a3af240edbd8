/** GitHub's REST API as the integration uses it: commit statuses, and a commit's tarball. */
import { InvalidArgumentError, TartarusError } from '@tartarus/core';
import type { PluginHost } from '@tartarus/plugin-sdk';
import type { GithubConfig } from './config.js';

/** Largest archive carried into a run (on stdin, as base64, within its 1 MiB). */
export const MAX_ARCHIVE_BYTES = 700 * 1024;

/** A commit status. */
export interface CommitStatus {
  repo: string;
  sha: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  description: string;
  context: string;
  targetUrl: string;
}

function headers(token: string | undefined): Record<string, string> {
  return {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'tartarus',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
}

/** The status a run's end gives its commit. */
export function statusOfRun(state: string, exitCode: unknown): Pick<CommitStatus, 'state' | 'description'> {
  if (state === 'succeeded') return { state: 'success', description: 'the run succeeded' };
  if (state === 'failed') return { state: 'failure', description: `the run failed${typeof exitCode === 'number' ? ` (exit ${exitCode})` : ''}` };
  return { state: 'error', description: `the run ended ${state}` };
}

/** Posts a commit status (`POST /repos/{owner}/{repo}/statuses/{sha}`); a refusal is thrown (the event is retried). */
export async function commitStatus(host: PluginHost, config: GithubConfig, token: string | undefined, s: CommitStatus): Promise<void> {
  const res = await host.fetch(`${config.apiBaseUrl}/repos/${s.repo}/statuses/${s.sha}`, {
    method: 'POST',
    headers: { ...headers(token), 'content-type': 'application/json' },
    body: JSON.stringify({ state: s.state, target_url: s.targetUrl, description: s.description, context: s.context }),
  });
  if (!res.ok) throw new TartarusError('unavailable', `GitHub answered ${res.status} to a commit status for ${s.repo}@${s.sha}: ${(await res.text()).slice(0, 200)}`);
  await res.arrayBuffer();
}

/** A commit's tarball (following up to 3 redirects, each through the destination rules). */
export async function fetchArchive(host: PluginHost, config: GithubConfig, repo: string, sha: string, token: string | undefined): Promise<Buffer> {
  let url = config.archiveUrl.replaceAll('{api}', config.apiBaseUrl).replaceAll('{repo}', repo).replaceAll('{sha}', sha);
  for (let hop = 0; hop < 4; hop++) {
    const res = await host.fetch(url, { headers: hop === 0 ? headers(token) : { 'user-agent': 'tartarus' } });
    const next = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && next !== null) {
      await res.arrayBuffer();
      url = new URL(next, url).href;
      continue;
    }
    if (!res.ok) throw new TartarusError('unavailable', `the archive of ${repo}@${sha} could not be fetched (${res.status} from ${new URL(url).host})`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_ARCHIVE_BYTES)
      throw new InvalidArgumentError(`the archive of ${repo}@${sha} is ${bytes.length} bytes, more than the ${MAX_ARCHIVE_BYTES} a run takes: set checkout: none and fetch the code in the run`);
    return bytes;
  }
  throw new TartarusError('unavailable', `the archive of ${repo}@${sha} redirects more than 3 times`);
}
