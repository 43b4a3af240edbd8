/**
 * How registries are reached: mirrors (as Docker's `registry-mirrors`, for any registry, not only
 * Docker Hub), registries reached without TLS (`insecure-registries`; loopback always is, as in
 * Docker) and credentials. A pull tries a registry's mirrors itself (store.ts); buildah reads the
 * same settings from a generated `registries.conf` (containers-registries.conf(5), `--registries-conf`),
 * so a Dockerfile build's base image takes the same path. Credentials go to a private auth file made
 * for one call and removed after it: never on a command line, never in a log.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import { isLoopbackRegistry } from './reference.js';

/** Registry settings of an `ImageStore`. */
export interface RegistryOptions {
  /** Registry host → mirror hosts tried first, in order (e.g. `{ "docker.io": ["10.0.0.5:5000"] }`). */
  mirrors?: Record<string, string[]>;
  /** Registries reached over plain HTTP (besides loopback ones, which always are). */
  insecure?: string[];
}

/** Credentials for one registry. */
export interface RegistryAuth {
  username: string;
  password: string;
}

const HOST_RE = /^[a-zA-Z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/;

/** Throws `InvalidArgumentError` naming a mirror or insecure entry that is not a host[:port]. */
export function checkRegistryOptions(o: RegistryOptions): void {
  for (const [registry, mirrors] of Object.entries(o.mirrors ?? {})) {
    for (const h of [registry, ...mirrors]) {
      if (!HOST_RE.test(h)) throw new InvalidArgumentError(`registry mirror setting ${JSON.stringify(h)} is not a host[:port] (e.g. 10.0.0.5:5000)`);
    }
  }
  for (const h of o.insecure ?? []) {
    if (!HOST_RE.test(h)) throw new InvalidArgumentError(`insecure registry ${JSON.stringify(h)} is not a host[:port]`);
  }
}

/**
 * Registry settings from the forms a command line or the environment gives: mirrors as
 * `REGISTRY=MIRROR[,REGISTRY=MIRROR…]` (a registry may be named more than once: its mirrors are
 * tried in that order), insecure registries as `HOST[,HOST…]`. Throws `InvalidArgumentError` naming
 * a bad entry.
 */
export function parseRegistrySettings(mirrors: string, insecure: string): RegistryOptions {
  const o: RegistryOptions = { mirrors: {}, insecure: [] };
  for (const entry of mirrors.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [registry, mirror, extra] = entry.split('=');
    if (!registry || !mirror || extra !== undefined) {
      throw new InvalidArgumentError(`registry mirror ${JSON.stringify(entry)} must be REGISTRY=MIRROR, e.g. docker.io=10.0.0.5:5000`);
    }
    (o.mirrors![registry] ??= []).push(mirror);
  }
  o.insecure = insecure.split(',').map((e) => e.trim()).filter(Boolean);
  checkRegistryOptions(o);
  return o;
}

function insecure(host: string, o: RegistryOptions): boolean {
  return isLoopbackRegistry(host) || (o.insecure ?? []).includes(host);
}

/** The text of registries.conf for `o` (TOML; strings are quoted as JSON, which TOML accepts for these). */
export function registriesConf(o: RegistryOptions): string {
  const lines = ['# Written by Tartarus from its registry settings; do not edit.', 'unqualified-search-registries = ["docker.io"]', ''];
  const hosts = new Set([...Object.keys(o.mirrors ?? {}), ...(o.insecure ?? [])]);
  for (const host of [...hosts].sort()) {
    lines.push('[[registry]]', `prefix = ${JSON.stringify(host)}`, `location = ${JSON.stringify(host === 'docker.io' ? 'registry-1.docker.io' : host)}`);
    lines.push(`insecure = ${insecure(host, o)}`);
    for (const m of o.mirrors?.[host] ?? []) {
      lines.push('[[registry.mirror]]', `location = ${JSON.stringify(m)}`, `insecure = ${insecure(m, o)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Writes registries.conf for `o` under `dir` (named by its content, so concurrent writers agree) and returns its path. */
export async function writeRegistriesConf(dir: string, o: RegistryOptions): Promise<string> {
  const text = registriesConf(o);
  const path = join(dir, `registries-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.conf`);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
  return path;
}

/** Whether skopeo should verify TLS for `registry`. */
export function tlsVerify(registry: string, o: RegistryOptions): boolean {
  return !insecure(registry, o);
}

/**
 * Runs `fn` with the path of a private auth file holding `auths` (registry → credentials; a
 * mirror never gets a registry's credentials), removed afterwards whatever happens; without
 * credentials `fn` gets undefined.
 */
export async function withAuthFile<T>(
  tmpRoot: string,
  auths: Record<string, RegistryAuth> | undefined,
  fn: (path: string | undefined) => Promise<T>,
): Promise<T> {
  if (!auths || Object.keys(auths).length === 0) return fn(undefined);
  await mkdir(tmpRoot, { recursive: true, mode: 0o700 });
  // Named `<pid>-…` like every working dir there: only a dead process's are cleaned up.
  const dir = await mkdtemp(join(tmpRoot, `${process.pid}-auth-`));
  try {
    const entries = Object.entries(auths).map(([host, a]) => [host, { auth: Buffer.from(`${a.username}:${a.password}`).toString('base64') }]);
    const path = join(dir, 'auth.json');
    await writeFile(path, JSON.stringify({ auths: Object.fromEntries(entries) }), { mode: 0o600 });
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
