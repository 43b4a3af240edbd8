/**
 * Images from a Dockerfile, built with buildah (Debian's package) in its own isolation: every RUN
 * step runs in a runc container (`--isolation oci`) with no network, no capabilities, a uid range
 * of its own (user namespace), one core and 2 GiB, and
 * buildah keeps its own storage under the image store (`buildah/`), never the host's. The base
 * image comes through the same registries.conf as a pull (mirrors, insecure registries) and the
 * same per-call auth file. The result is pushed into the shared blob directory as an OCI layout
 * and unpacked like a pulled image, keyed by its manifest digest.
 */
import { lstat, mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import { runCommand, type RunResult } from '../process/run.js';
import type { TemplateProgress } from '../templates/types.js';
import type { Manifest } from './manifest.js';
import { layoutManifest } from './pull.js';
import { parseImageRef } from './reference.js';

/** What one build needs. */
export interface BuildJob {
  /** The reference the result is known by, e.g. `tartarus.local/ten_1/app:latest`. */
  tag: string;
  /** Directory holding the build context. */
  contextDir: string;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
  /** The store's directory for buildah's storage. */
  buildahDir: string;
  registriesConf: string;
  authFile: string | undefined;
  /** Empty directory for the OCI layout of the result; its `blobs` links to the shared blobs. */
  layoutDir: string;
  /** Host id of the build's root: RUN steps run in a user namespace over a uid range of their own. */
  uidBase: number;
  signal?: AbortSignal | undefined;
  report(p: TemplateProgress): void;
}

function buildah(job: BuildJob, args: string[], extra: { onOutput?: (s: 'stdout' | 'stderr', d: Buffer) => void } = {}): Promise<RunResult> {
  return runCommand(
    ['buildah', '--root', join(job.buildahDir, 'storage'), '--runroot', join(job.buildahDir, 'run'), '--storage-driver', 'vfs', ...args],
    {
      signal: job.signal,
      timeoutMs: 3_600_000,
      allowNonZero: true,
      ...extra,
    },
  );
}

/** The last lines of a failed buildah call: what the user needs to fix their Dockerfile. */
function failure(what: string, r: RunResult): InvalidArgumentError {
  const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-8).join('\n');
  return new InvalidArgumentError(`${what} failed: ${tail}`);
}

/** Checks that `dockerfile` stays inside the context (no absolute path, no `..`). */
export function checkDockerfilePath(dockerfile: string): void {
  if (dockerfile === '' || dockerfile.startsWith('/') || dockerfile.split('/').includes('..') || dockerfile.includes('\0')) {
    throw new InvalidArgumentError(`dockerfile ${JSON.stringify(dockerfile)} must be a relative path inside the build context (e.g. Dockerfile)`);
  }
}

/**
 * The registries a Dockerfile's FROM lines name (stage names, `scratch` and references built from
 * ARGs aside): a loopback one among them is reached without TLS, as a pull does.
 */
export function fromRegistries(dockerfile: string): string[] {
  const hosts = new Set<string>();
  for (const line of dockerfile.split('\n')) {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(line);
    const ref = m?.[1];
    if (!ref || ref.includes('$') || ref === 'scratch') continue;
    try {
      hosts.add(parseImageRef(ref).registry);
    } catch {
      // A stage name or something buildah will explain better.
    }
  }
  return [...hosts];
}

/**
 * The Dockerfile of an unpacked context: a regular file whose real path is inside the context (a
 * member that is a symlink — to a host file, to /dev/zero — is refused before anything reads it).
 */
export async function contextDockerfile(contextDir: string, dockerfile: string): Promise<string> {
  checkDockerfilePath(dockerfile);
  const path = join(contextDir, dockerfile);
  const [st, real, base] = await Promise.all([lstat(path).catch(() => undefined), realpath(path).catch(() => ''), realpath(contextDir)]);
  if (!st?.isFile() || !real.startsWith(`${base}/`)) {
    throw new InvalidArgumentError(`dockerfile ${JSON.stringify(dockerfile)} is not a regular file in the build context: send the Dockerfile itself, not a link`);
  }
  return path;
}

/** Builds `job` and leaves the result in `job.layoutDir` as tag `image`; returns its manifest digest and manifest. */
export async function buildWithBuildah(job: BuildJob, blobsDir: string): Promise<{ digest: string; manifest: Manifest }> {
  const dockerfile = await contextDockerfile(job.contextDir, job.dockerfile);
  await mkdir(join(job.buildahDir, 'storage'), { recursive: true });
  const local = `localhost/tartarus-build-${process.pid}-${Date.now().toString(36)}`;
  const policy = '/etc/containers/policy.json';
  let line = '';
  const bud = await buildah(
    job,
    ['bud', '--registries-conf', job.registriesConf, '--signature-policy', policy, '--isolation', 'oci', '--network', 'none', '--cap-drop', 'all', '--layers=false',
      // Bounded like a sandbox: its own uid range (never host root), one core, 2 GiB, no containers left behind.
      '--userns-uid-map', `0:${job.uidBase}:65536`, '--userns-gid-map', `0:${job.uidBase}:65536`,
      '--cpu-quota', '100000', '--memory', '2g', '--force-rm',
      ...(job.authFile ? ['--authfile', job.authFile] : []), '-t', local, '-f', dockerfile, job.contextDir],
    {
      onOutput: (_s, d) => {
        line += d.toString('utf8');
        const lines = line.split('\n');
        line = lines.pop() ?? '';
        for (const l of lines) {
          const step = /^STEP (\d+)\/(\d+): (.*)$/.exec(l);
          if (step) job.report({ template: job.tag, phase: 'build', message: l.slice(0, 200), fraction: (Number(step[1]) - 1) / Number(step[2]) });
        }
      },
    },
  );
  try {
    if (bud.exitCode !== 0) throw failure(`building ${job.tag} from ${job.dockerfile}`, bud);
    await mkdir(join(blobsDir, 'sha256'), { recursive: true });
    await mkdir(job.layoutDir, { recursive: true });
    await symlink(blobsDir, join(job.layoutDir, 'blobs'));
    const push = await buildah(job, ['push', '--signature-policy', policy, '--format', 'oci', '--quiet', local, `oci:${job.layoutDir}:image`]);
    if (push.exitCode !== 0) throw failure(`storing the build of ${job.tag}`, push);
  } finally {
    await buildah(job, ['rmi', '-f', local]).catch(() => undefined);
  }
  return layoutManifest(job.layoutDir, blobsDir, job.tag);
}

/** Writes a build context from a tar archive into `dir` (members outside it are refused by tar). */
export async function unpackContext(tar: Buffer, dir: string, signal?: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true });
  const archive = join(dir, '..', 'context.tar');
  await writeFile(archive, tar);
  // GNU tar drops leading '/' and refuses members with '..'; ownership and modes are not kept.
  const r = await runCommand(['tar', '-x', '--no-same-owner', '--no-same-permissions', '-f', archive, '-C', dir], {
    signal,
    timeoutMs: 300_000,
    allowNonZero: true,
  });
  if (r.exitCode !== 0) throw new InvalidArgumentError(`the build context is not a valid tar archive: ${r.stderr.trim().split('\n').pop() ?? ''}`);
}
