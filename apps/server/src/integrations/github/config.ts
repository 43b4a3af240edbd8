/** The GitHub integration's per-tenant config (`PUT /v1/integrations/github/config`). */
import { SecretNameSchema, SubmitRunRequestSchema } from '@tartarus/core';
import { z } from 'zod';

/** One repository and the run it starts. */
export const GithubRepoSchema = z.strictObject({
  /** `owner/name`, as GitHub's payloads name it (case-insensitive). */
  repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'repo must be owner/name'),
  /** Which webhook events start the run. Default both. */
  events: z.array(z.enum(['push', 'pull_request'])).min(1).default(['push', 'pull_request']),
  /** Pushes to these branches only (default: every branch). */
  branches: z.array(z.string().min(1)).optional(),
  /**
   * The run, as `POST /v1/runs` takes it (`command` or `argv`, `template` or `image`, `env`,
   * `timeoutMs`, limits…). It runs in the checked-out tree, with GITHUB_REPOSITORY, GITHUB_SHA,
   * GITHUB_REF and GITHUB_EVENT_NAME set.
   */
  run: z.record(z.string(), z.unknown()).superRefine((run, ctx) => {
    if ('stdin' in run) ctx.addIssue({ code: 'custom', path: ['stdin'], message: 'stdin carries the checkout: leave it out' });
    const r = SubmitRunRequestSchema.safeParse(run);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  }),
  /**
   * `archive` (default): the server fetches the commit's tarball from `archiveUrl` with the token
   * and the run starts in it (at most 700 KiB compressed); `none`: the run gets the variables only.
   */
  checkout: z.enum(['archive', 'none']).default('archive'),
  /** The commit status's context. Default `tartarus`. */
  statusContext: z.string().min(1).max(100).default('tartarus'),
});
/** One repository and its run. */
export type GithubRepo = z.output<typeof GithubRepoSchema>;

/** The integration's config. */
export const GithubConfigSchema = z.strictObject({
  /** Name of the tenant secret holding the webhook's secret (GitHub signs each delivery with it). */
  webhookSecret: SecretNameSchema,
  /** Name of the tenant secret holding a token for commit statuses and archives. */
  token: SecretNameSchema.optional(),
  /** GitHub's API (GitHub Enterprise: `https://HOST/api/v3`). Default `https://api.github.com`. */
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
  /**
   * Where a commit's tarball is, `{api}`, `{repo}` and `{sha}` filled in. Default GitHub's:
   * `{api}/repos/{repo}/tarball/{sha}`.
   */
  archiveUrl: z.string().min(1).default('{api}/repos/{repo}/tarball/{sha}'),
  repos: z.array(GithubRepoSchema).min(1, 'repos must name at least one repository'),
});
/** The integration's config. */
export type GithubConfig = z.output<typeof GithubConfigSchema>;
