/**
 * Fetch and unpack of one image manifest already resolved to a digest. skopeo copies it into a
 * private OCI layout whose `blobs/` is the store's shared blob directory (a layer already there,
 * from any image, is not fetched again); umoci unpacks the layers, whiteouts applied, into a root.
 * Progress (layers and bytes) is read off the blob directory while skopeo writes it.
 */
import { mkdir, readdir, readFile, stat, symlink, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../process/run.js';
import { parseImageConfig, type ImageConfig } from './config.js';
import { parseManifest, type Manifest } from './manifest.js';
import { copyToLayout, type SkopeoAccess } from './skopeo.js';
import { exists } from '../drivers/shared/main-process.js';
import { InvalidArgumentError } from '@tartarus/core';
import { HOST_PLATFORM } from './manifest.js';

/** Progress of a pull. */
export interface PullProgress {
  phase: 'resolve' | 'fetch' | 'unpack' | 'done';
  layersDone: number;
  layersTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** One fetch + unpack. */
export interface FetchJob {
  /** `docker://registry/repo@sha256:…`. */
  source: string;
  /** The reference as the caller gave it, for messages. */
  ref: string;
  manifest: Manifest;
  /** Empty directory for the OCI layout; its `blobs` becomes a link to `blobsDir`. */
  layoutDir: string;
  /** The shared blob directory (`…/blobs`, holding `sha256/<hex>`). */
  blobsDir: string;
  /** Where the root goes (must not exist). */
  rootfs: string;
  access: SkopeoAccess;
  onProgress?: ((p: PullProgress) => void) | undefined;
}

const TAG = 'image';
const POLL_MS = 200;


function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** Bytes and layers of `job` already in the blob directory, plus what skopeo has written of the rest. */
async function measure(job: FetchJob): Promise<{ layersDone: number; bytesDone: number }> {
  let layersDone = 0;
  let bytesDone = 0;
  for (const l of job.manifest.layers) {
    if (await exists(join(job.blobsDir, 'sha256', hexOf(l.digest)))) {
      layersDone++;
      bytesDone += l.size;
    }
  }
  // skopeo writes each blob to a temp file in the layout's directory, then renames it into blobs/.
  const names = await readdir(job.layoutDir).catch(() => [] as string[]);
  for (const n of names.filter((x) => x.startsWith('oci-put-blob'))) {
    bytesDone += await stat(join(job.layoutDir, n)).then((s) => s.size, () => 0);
  }
  return { layersDone, bytesDone };
}

/** What an unpacked image is: its config and the blobs (config, layers) it is made of, as stored. */
export interface Unpacked {
  config: ImageConfig;
  blobs: string[];
}

/** Copies and unpacks `job`'s image. Leaves `layoutDir` for the caller to remove. */
export async function fetchAndUnpack(job: FetchJob): Promise<Unpacked> {
  const layersTotal = job.manifest.layers.length;
  const bytesTotal = job.manifest.layers.reduce((s, l) => s + l.size, 0);
  const report = async (phase: PullProgress['phase']): Promise<void> => {
    if (!job.onProgress) return;
    const m = phase === 'done' || phase === 'unpack' ? { layersDone: layersTotal, bytesDone: bytesTotal } : await measure(job);
    job.onProgress({ phase, layersTotal, bytesTotal, layersDone: m.layersDone, bytesDone: Math.min(m.bytesDone, bytesTotal) });
  };
  await mkdir(join(job.blobsDir, 'sha256'), { recursive: true });
  await mkdir(job.layoutDir, { recursive: true });
  await symlink(job.blobsDir, join(job.layoutDir, 'blobs'));
  await report('fetch');
  const timer = setInterval(() => void report('fetch').catch(() => undefined), POLL_MS);
  try {
    await copyToLayout(job.source, job.ref, job.layoutDir, TAG, job.access);
  } finally {
    clearInterval(timer);
  }
  await report('unpack');
  // The layout's manifest, not the registry's: a Docker schema 2 image is converted on the way
  // (its config gets a new digest), and the store keeps what it holds.
  const { manifest: local } = await layoutManifest(job.layoutDir, job.blobsDir, job.ref);
  const config = await unpackLayout(job.layoutDir, job.blobsDir, local, job.rootfs, job.ref, job.access.signal);
  await report('done');
  return { config, blobs: [local.config.digest, ...local.layers.map((l) => l.digest)] };
}

/** The manifest (and its digest) of the image tagged `image` in the OCI layout at `layoutDir`. */
export async function layoutManifest(layoutDir: string, blobsDir: string, ref: string): Promise<{ digest: string; manifest: Manifest }> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests?: { digest?: string }[] };
  const digest = index.manifests?.[0]?.digest;
  if (typeof digest !== 'string') throw new InvalidArgumentError(`image ${ref}: the copy holds no manifest`);
  const manifest = parseManifest(await readFile(join(blobsDir, 'sha256', hexOf(digest))), ref);
  return { digest, manifest };
}

/** Unpacks the image tagged `image` in `layoutDir` into `rootfs` (whiteouts applied); returns its config. */
export async function unpackLayout(
  layoutDir: string,
  blobsDir: string,
  manifest: Manifest,
  rootfs: string,
  ref: string,
  signal?: AbortSignal,
): Promise<ImageConfig> {
  const config = parseImageConfig(JSON.parse(await readFile(join(blobsDir, 'sha256', hexOf(manifest.config.digest)), 'utf8')));
  if (config.os !== HOST_PLATFORM.os || config.architecture !== HOST_PLATFORM.architecture) {
    throw new InvalidArgumentError(
      `image ${ref} is built for ${config.os}/${config.architecture}, not ${HOST_PLATFORM.os}/${HOST_PLATFORM.architecture}: use an image (or an index entry) for ${HOST_PLATFORM.architecture}`,
    );
  }
  const r = await runCommand(['umoci', 'raw', 'unpack', '--image', `${layoutDir}:${TAG}`, rootfs], { signal, timeoutMs: 3_600_000, allowNonZero: true });
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? '';
    throw new InvalidArgumentError(`image ${ref} could not be unpacked (a layer is not a valid tar archive?): ${why.slice(0, 300)}`, { context: { image: ref } });
  }
  // The root is shared read-only by every sandbox: traversable by all, whatever the image said.
  await chmod(rootfs, 0o755);
  return config;
}
