/**
 * The two skopeo calls a pull makes — read a manifest (`inspect --raw`) and copy an image into an
 * OCI layout — and the translation of skopeo's failures into errors that say what to change.
 * skopeo runs without its signature policy (`--insecure-policy`): Tartarus pins images by digest
 * instead and does not verify signatures. (Debian's skopeo 1.9 reads neither a registries.conf
 * path nor `CONTAINERS_REGISTRIES_CONF`, so mirrors are tried by the store itself.)
 */
import { InvalidArgumentError, TartarusError } from '@tartarus/core';
import { runCommand } from '../process/run.js';

/** How skopeo reaches one registry for one call. */
export interface SkopeoAccess {
  tlsVerify: boolean;
  authFile: string | undefined;
  signal?: AbortSignal | undefined;
}

/** A registry that could not be reached: HTTP 503, retryable. */
export class RegistryUnavailableError extends TartarusError {
  constructor(message: string) {
    super('unavailable', message, { retryable: true });
  }
}

function sourceFlags(a: SkopeoAccess, prefix: '' | 'src-'): string[] {
  // Only ever `false`: an explicit `true` would also force TLS on the registry's mirrors, which
  // registries.conf marks insecure when they are (a loopback or listed mirror).
  const tls = a.tlsVerify ? [] : [`--${prefix}tls-verify=false`];
  return [...tls, ...(a.authFile ? [`--${prefix}authfile`, a.authFile] : [`--${prefix}no-creds`])];
}

/** The last meaningful line of skopeo's stderr (its `level=fatal msg="..."`), unquoted. */
function skopeoMessage(stderr: string): string {
  const line = stderr.trim().split('\n').pop() ?? '';
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return (m ? (JSON.parse(`"${m[1]}"`) as string) : line).slice(0, 500);
}

/** Maps a failed skopeo call on `ref` to an error naming the reference and what to change. */
export function registryError(ref: string, stderr: string): TartarusError {
  const msg = skopeoMessage(stderr);
  // Status codes as whole words: the registry's port (127.0.0.1:40403) must not read as a 404.
  // A refusal first: a registry may answer "unauthorized" while reading a manifest.
  if (/unauthorized|authentication required|denied|\b401\b|\b403\b/i.test(msg)) {
    return new InvalidArgumentError(`the registry refused access to image ${ref}: give valid registry credentials for it (${msg})`, { context: { image: ref } });
  }
  if (/manifest unknown|name unknown|not found|\b404\b/i.test(msg)) {
    return new InvalidArgumentError(`image ${ref} was not found in its registry: check the name and tag (${msg})`, { context: { image: ref } });
  }
  if (/http: server gave HTTP response to HTTPS client/i.test(msg)) {
    return new InvalidArgumentError(`the registry of ${ref} speaks plain HTTP: list it in the insecure registries (${msg})`, { context: { image: ref } });
  }
  return new RegistryUnavailableError(`the registry of image ${ref} could not be reached: ${msg}`);
}

/** The manifest (or index) of `transportRef` (`docker://...`) exactly as the registry serves it. */
export async function inspectRaw(transportRef: string, ref: string, a: SkopeoAccess): Promise<Buffer> {
  const r = await runCommand(['skopeo', 'inspect', '--raw', ...sourceFlags(a, ''), '--', transportRef], {
    signal: a.signal,
    timeoutMs: 120_000,
    maxOutputBytes: 4 << 20,
    allowNonZero: true,
  });
  if (r.exitCode !== 0) throw registryError(ref, r.stderr);
  return Buffer.from(r.stdout, 'utf8');
}

/** Copies `transportRef` into the OCI layout `layoutDir` under `tag`, blobs already there reused. */
export async function copyToLayout(transportRef: string, ref: string, layoutDir: string, tag: string, a: SkopeoAccess): Promise<void> {
  const r = await runCommand(
    ['skopeo', '--insecure-policy', 'copy', '--quiet', ...sourceFlags(a, 'src-'), '--', transportRef, `oci:${layoutDir}:${tag}`],
    { signal: a.signal, timeoutMs: 3_600_000, allowNonZero: true },
  );
  if (r.exitCode !== 0) throw registryError(ref, r.stderr);
}
