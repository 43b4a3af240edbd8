/**
 * Shared fixtures of the whole-system tests: a real embedded platform on a temp data dir (real
 * HTTP on loopback, real SQLite, real runc), a tiny HTTP client, and the runtime probe that
 * decides what is skipped (with its reason printed).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Runtime } from '@tartarus/runtime';
import { startEmbedded, type EmbeddedHandle, type EmbeddedOptions } from '@tartarus/server';

/** A response, parsed. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Options of one call. */
export interface CallOptions {
  /** JSON-encoded unless `raw` is given. */
  body?: unknown;
  /** Sent as is. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/** Calls the API with a key (undefined: no Authorization header). */
export async function call(
  base: string,
  key: string | undefined,
  method: string,
  path: string,
  o: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
  };
  let body: string | Buffer | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, {
    method,
    headers: { ...headers, ...o.headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Why the container runtime cannot run here, or undefined when it can. */
export async function containerSkipReason(): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'tt-probe-'));
  try {
    const a = (await new Runtime({ stateDir: dir, templateDir: join(dir, 't') }).available())[
      'container'
    ];
    return a?.ok
      ? undefined
      : `container runtime unavailable: ${a && !a.ok ? a.reason : 'not registered'}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` against a fresh embedded platform; everything is removed afterwards. */
export async function withEmbedded<T>(
  fn: (h: EmbeddedHandle & { adminKey: string }) => Promise<T>,
  options: Omit<EmbeddedOptions, 'dataDir' | 'port'> = {},
): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tt-e2e-'));
  let h: EmbeddedHandle | undefined;
  try {
    h = await startEmbedded({ ...options, dataDir, port: 0 });
    if (h.adminKey === undefined) throw new Error('a fresh data dir must yield an admin key');
    return await fn({ ...h, adminKey: h.adminKey });
  } finally {
    await h?.close({ destroySandboxes: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Polls `fn` until it returns a value (not undefined), up to `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The real CLI's bin script. */
const CLI = fileURLToPath(new URL('../../../packages/cli/bin/tartarus.js', import.meta.url));

/** Runs the real CLI against a platform at `url` with `key`: its exit status, stdout and stderr. */
export async function tartarus(args: string[], url: string, key: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, TARTARUS_URL: url, TARTARUS_API_KEY: key };
  return promisify(execFile)(process.execPath, [CLI, ...args], { env }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}
