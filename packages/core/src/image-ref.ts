/**
 * Image references as Docker reads them (the grammar of distribution's `reference` package):
 * `[registry[:port]/]path[:tag][@sha256:hex]`. A name without a registry part is on Docker Hub
 * (`docker.io`), and a one-component Docker Hub name is under `library/` (`nginx` is
 * `docker.io/library/nginx`). Neither tag nor digest means `:latest`.
 */
import { InvalidArgumentError } from './errors.js';

/** A parsed, normalised image reference. */
export interface ImageRef {
  /** Registry host (with port), e.g. `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`. */
  repository: string;
  /** The tag, when the reference gives one (or none and no digest: `latest`). */
  tag?: string;
  /** `sha256:<64 hex>` when the reference pins one. */
  digest?: string;
  /** The full normalised form: `registry/repository[:tag][@digest]`. */
  canonical: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
const MAX_LENGTH = 512;

function bad(ref: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `image reference ${JSON.stringify(ref)} is invalid: ${why} (expected [registry/]name[:tag][@sha256:digest], e.g. nginx:1.25 or 127.0.0.1:5000/app@sha256:…)`,
    { context: { image: ref } },
  );
}

/** Parses and normalises `ref`; throws `InvalidArgumentError` naming it and what is wrong. */
export function parseImageRef(ref: string): ImageRef {
  if (typeof ref !== 'string' || ref.length === 0) throw bad(String(ref), 'it is empty');
  if (ref.length > MAX_LENGTH) throw bad(ref.slice(0, 64) + '…', `it is longer than ${MAX_LENGTH} characters`);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `the digest ${JSON.stringify(digest)} is not sha256: and 64 lowercase hex digits`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `the tag ${JSON.stringify(tag)} may hold only letters, digits, '_', '.' and '-' (at most 128)`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    parts.shift();
    if (!HOST.test(registry)) throw bad(ref, `the registry ${JSON.stringify(registry)} is not a host[:port]`);
  }
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    throw bad(ref, 'the name must be lowercase letters and digits, separated by "/", ".", "_" or "-"');
  }
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (tag === undefined && digest === undefined) tag = 'latest';
  const canonical = `${registry}/${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }), canonical };
}

/** `registry/repository@digest`: the reference pinned to one manifest. */
export function pinned(ref: ImageRef, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`;
}

/** True for a registry on this machine (`localhost`, 127.0.0.0/8, `[::1]`): reached without TLS, as Docker does. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.split(':')[0] ?? '';
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
