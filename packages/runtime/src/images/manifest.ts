/**
 * Manifests and indexes as registries serve them (OCI and Docker v2 schema 2): which one a
 * multi-arch index offers for this machine, and what a manifest's layers weigh.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@tartarus/core';

/** The platform Tartarus runs images for. */
export const HOST_PLATFORM = { os: 'linux', architecture: 'amd64' } as const;

/** A content descriptor. */
export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** A parsed image manifest. */
export interface Manifest {
  config: Descriptor;
  layers: Descriptor[];
}

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function parse(raw: Buffer, ref: string): Record<string, unknown> {
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown;
    if (v && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError(`image ${ref}: the registry served a manifest that is not JSON`);
}

/** True when `raw` is an OCI image index or a Docker manifest list. */
export function isIndex(raw: Buffer, ref: string): boolean {
  const m = parse(raw, ref);
  return Array.isArray(m.manifests);
}

/** The digest of the entry of an index for linux/amd64; `InvalidArgumentError` listing what the index has otherwise. */
export function pickPlatform(raw: Buffer, ref: string): string {
  const entries = (parse(raw, ref).manifests ?? []) as Descriptor[];
  const match = entries.find(
    (d) => d.platform?.os === HOST_PLATFORM.os && d.platform?.architecture === HOST_PLATFORM.architecture && typeof d.digest === 'string',
  );
  if (match) return match.digest;
  const has = entries.map((d) => `${d.platform?.os ?? '?'}/${d.platform?.architecture ?? '?'}`);
  throw new InvalidArgumentError(
    `image ${ref} has no ${HOST_PLATFORM.os}/${HOST_PLATFORM.architecture} variant (it has ${has.join(', ') || 'none'}): use an image built for ${HOST_PLATFORM.architecture}`,
    { context: { image: ref } },
  );
}

/** Parses an image manifest; `InvalidArgumentError` when it is not one (e.g. a schema 1 manifest). */
export function parseManifest(raw: Buffer, ref: string): Manifest {
  const m = parse(raw, ref);
  const config = m.config as Descriptor | undefined;
  const layers = m.layers as Descriptor[] | undefined;
  if (m.schemaVersion !== 2 || !config || !Array.isArray(layers)) {
    throw new InvalidArgumentError(`image ${ref} has a manifest Tartarus cannot read: only OCI and Docker schema 2 images are supported`);
  }
  return { config, layers };
}
