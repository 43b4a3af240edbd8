/**
 * Test OCI images, built from files made here with umoci (no daemon, no download) in an OCI
 * layout dir, and pushed with skopeo to a `TestRegistry` (./registry.ts).
 *
 * How an image is built: `umoci new` makes an empty image under the tag, `umoci unpack` makes
 * one bundle, and then each layer is applied to `bundle/rootfs` and committed with
 * `umoci repack --refresh-bundle` (which re-bases the bundle on the new image, so the next
 * layer's diff is against it: the same result as unpacking afresh for every layer, with one
 * unpack instead of N). umoci computes each layer as the mtree diff of the rootfs, so a path
 * removed in a layer becomes a whiteout (`.wh.NAME`) in that layer. Finally `umoci config` sets
 * the image config. Building a tag again replaces it (`umoci new` over an existing tag).
 *
 * Every external command goes through `runTool` (execFile, a timeout, stderr in the error).
 * Layer contents come from test code and are trusted: paths are kept inside the rootfs by name
 * (no `..`), but symlinks made by an earlier layer are followed.
 */
import { createCipheriv, createHash } from 'node:crypto';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { runTool, type TestRegistry } from './registry.js';

/** A file of a layer: text content (mode 0644), a symlink, or content with a mode. */
export type TestFile = string | { symlink: string } | { mode: number; content: string };

/** What one layer changes, applied in this order: `remove`, then `dirs`, then `files`. */
export interface TestLayer {
  /** Absolute paths in the image → content. Parent dirs are made (0755). */
  files?: Record<string, TestFile>;
  /** Dirs to make (0755, with parents). */
  dirs?: string[];
  /** Paths of earlier layers deleted in this one (recursively): umoci emits whiteouts. */
  remove?: string[];
}

/** The image config. Unset fields stay unset; arrays are set as given (an empty one = unset). */
export interface TestImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workdir?: string;
  /** `name`, `uid`, `uid:gid`... as in the OCI config. */
  user?: string;
  /** e.g. `8080/tcp`. */
  exposedPorts?: string[];
  /** Default `amd64`. */
  architecture?: string;
  /** Default `linux`. */
  os?: string;
}

/** What `buildTestImage()` builds. */
export interface TestImageSpec {
  /**
   * Adds to the first layer the host's static busybox at /bin/busybox with applet symlinks
   * (sh, ls, cat, echo, ...), /etc/passwd and /etc/group with root and `app` (1234:1234, home
   * /home/app), /home/app and /tmp, so the image runs `sh`. No PATH is added to the env.
   */
  busybox?: boolean;
  layers: TestLayer[];
  config: TestImageConfig;
  /** Adds a last layer holding /pad.bin: this many MiB of incompressible bytes. Default none. */
  padMiB?: number;
}

/** Options of `pushTestImage()`. */
export interface PushTestImageOptions {
  /** Manifest type in the registry (skopeo `--format`). Default `oci`. */
  format?: 'oci' | 'v2s2';
}

/** An image (or index) as pushed. */
export interface PushedImage {
  /** `127.0.0.1:PORT/name:tag`. */
  ref: string;
  /** Digest of the manifest (or index) as stored in the registry: `sha256:<64 hex>`. */
  digest: string;
}

/** One image of an index: a tag already built in the same layout, and its platform. */
export interface TestIndexEntry {
  tag: string;
  platform: { architecture: string; os: string; variant?: string };
}

const BUSYBOX = '/bin/busybox';
const APPLETS = 'sh ls cat echo id pwd env sleep true false printf test whoami'.split(' ');
const APP_ID = 1234;
const REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** Repacking (gzip) a 100 MiB layer takes seconds; the rest is instant. */
const UMOCI_TIMEOUT_MS = 300_000;
const SKOPEO_TIMEOUT_MS = 300_000;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: TestIndexEntry['platform'];
}

/** The layer busybox images start with: the static binary, its applets and a user database. */
function busyboxLayer(): TestLayer {
  const files: Record<string, TestFile> = {
    '/etc/passwd':
      'root:x:0:0:root:/root:/bin/sh\n' + `app:x:${APP_ID}:${APP_ID}:app:/home/app:/bin/sh\n`,
    '/etc/group': `root:x:0:\napp:x:${APP_ID}:\n`,
  };
  for (const applet of APPLETS) files[`/bin/${applet}`] = { symlink: BUSYBOX };
  return { dirs: ['/root', '/home/app'], files };
}

/** Puts busybox, its applets and the user database into `rootfs` (see `TestImageSpec.busybox`). */
async function addBusybox(rootfs: string): Promise<void> {
  await applyLayer(rootfs, busyboxLayer());
  await copyFile(BUSYBOX, join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  await chown(join(rootfs, 'home/app'), APP_ID, APP_ID);
  await mkdir(join(rootfs, 'tmp'), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
}

/** `path` in the image as a host path under `rootfs`; refuses any path not plainly inside. */
function inRootfs(rootfs: string, path: string): string {
  const normal = posix.normalize(`/${path}`);
  if (normal === '/' || normal.split('/').includes('..')) {
    throw new Error(`test layer path ${JSON.stringify(path)} is not a path inside the image`);
  }
  return join(rootfs, normal);
}

async function applyLayer(rootfs: string, layer: TestLayer): Promise<void> {
  for (const p of layer.remove ?? []) await rm(inRootfs(rootfs, p), { recursive: true });
  for (const d of layer.dirs ?? [])
    await mkdir(inRootfs(rootfs, d), { recursive: true, mode: 0o755 });
  for (const [p, file] of Object.entries(layer.files ?? {})) {
    const host = inRootfs(rootfs, p);
    await mkdir(dirname(host), { recursive: true, mode: 0o755 });
    await rm(host, { force: true });
    if (typeof file === 'string') {
      await writeFile(host, file);
      await chmod(host, 0o644);
    } else if ('symlink' in file) {
      await symlink(file.symlink, host);
    } else {
      await writeFile(host, file.content);
      await chmod(host, file.mode); // explicit: writeFile's mode is filtered by the umask
    }
  }
}

/** Writes `mib` MiB of AES-CTR keystream (fixed key: deterministic, incompressible, ~1 GB/s). */
async function writePadding(path: string, mib: number): Promise<void> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 0x74), Buffer.alloc(16));
  const zeros = Buffer.alloc(1 << 20);
  const fh = await open(path, 'w', 0o644);
  try {
    for (let i = 0; i < mib; i++) await fh.write(cipher.update(zeros));
  } finally {
    await fh.close();
  }
}

/** `umoci config` flags for `config`, on an image whose config is still empty. */
function configArgs(config: TestImageConfig): string[] {
  // `--flag=value`, so that a value starting with `-` (e.g. `-c`) is not taken for a flag.
  const many = (flag: string, values: string[] = []): string[] =>
    values.map((v) => `--config.${flag}=${v}`);
  return [
    ...many('entrypoint', config.entrypoint),
    ...many('cmd', config.cmd),
    ...many(
      'env',
      Object.entries(config.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ),
    ...many('exposedports', config.exposedPorts),
    ...(config.workdir !== undefined ? [`--config.workingdir=${config.workdir}`] : []),
    ...(config.user !== undefined ? [`--config.user=${config.user}`] : []),
    `--architecture=${config.architecture ?? 'amd64'}`,
    `--os=${config.os ?? 'linux'}`,
  ];
}

/** Makes `layoutDir` an OCI layout unless it is one (an existing empty dir is fine). */
async function ensureLayout(layoutDir: string): Promise<void> {
  if (await stat(join(layoutDir, 'oci-layout')).catch(() => undefined)) return;
  const entries = await readdir(layoutDir).catch(() => undefined);
  if (entries?.length === 0) await rmdir(layoutDir); // umoci init wants to create the dir itself
  await runTool('umoci', ['init', '--layout', layoutDir], UMOCI_TIMEOUT_MS);
}

/**
 * Builds the image `spec` as `tag` in the OCI layout `layoutDir` (made if absent), replacing any
 * image of that tag. Returns its manifest digest in the layout (`sha256:...`).
 */
export async function buildTestImage(
  layoutDir: string,
  tag: string,
  spec: TestImageSpec,
): Promise<string> {
  await ensureLayout(layoutDir);
  const image = `${layoutDir}:${tag}`;
  await runTool('umoci', ['new', '--image', image], UMOCI_TIMEOUT_MS);

  // busybox goes into the first layer, so a busybox image without layers still gets one.
  const layers = spec.layers.length > 0 || !spec.busybox ? spec.layers : [{}];
  const work = await mkdtemp(join(tmpdir(), 'tt-image-'));
  try {
    const bundle = join(work, 'bundle');
    await runTool('umoci', ['unpack', '--image', image, bundle], UMOCI_TIMEOUT_MS);
    const rootfs = join(bundle, 'rootfs');
    for (const [i, layer] of layers.entries()) {
      if (i === 0 && spec.busybox) await addBusybox(rootfs);
      await applyLayer(rootfs, layer);
      await repack(image, bundle, `layer ${i + 1} of ${layers.length}`);
    }
    if (spec.padMiB !== undefined && spec.padMiB > 0) {
      await writePadding(join(rootfs, 'pad.bin'), spec.padMiB);
      await repack(image, bundle, `${spec.padMiB} MiB padding`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // No history entry for the config change: it would only be an `empty_layer` line.
  const config = ['config', '--image', image, '--no-history', ...configArgs(spec.config)];
  await runTool('umoci', config, UMOCI_TIMEOUT_MS);
  return ociManifestDigest(layoutDir, tag);
}

/**
 * Commits the bundle's rootfs as a new layer. With a history entry: umoci warns that a layer
 * without one "will confuse many tools".
 */
async function repack(image: string, bundle: string, what: string): Promise<void> {
  const history = `--history.created_by=tartarus test image: ${what}`;
  const args = ['repack', '--refresh-bundle', history, '--image', image, bundle];
  await runTool('umoci', args, UMOCI_TIMEOUT_MS);
}

type LayoutIndex = { manifests: Descriptor[] } & Record<string, unknown>;

async function readLayoutIndex(layoutDir: string): Promise<LayoutIndex> {
  return JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8'));
}

async function descriptorOf(layoutDir: string, tag: string): Promise<Descriptor> {
  const found = (await readLayoutIndex(layoutDir)).manifests
    .filter((m) => m.annotations?.[REF_NAME] === tag)
    .at(-1);
  if (!found) throw new Error(`no tag ${JSON.stringify(tag)} in the OCI layout ${layoutDir}`);
  return found;
}

/** The digest (`sha256:...`) of what `tag` names in the OCI layout: a manifest or an index. */
export async function ociManifestDigest(layoutDir: string, tag: string): Promise<string> {
  return (await descriptorOf(layoutDir, tag)).digest;
}

/**
 * Makes an OCI image index naming the images of `entries` (tags of this layout) with their
 * platforms, stores it as a blob and tags it `tag` in the layout's index.json (replacing an
 * older `tag`). Returns the index digest (`sha256:...`).
 */
export async function buildTestIndex(
  layoutDir: string,
  tag: string,
  entries: TestIndexEntry[],
): Promise<string> {
  const manifests: Descriptor[] = [];
  for (const e of entries) {
    const d = await descriptorOf(layoutDir, e.tag);
    if (d.mediaType !== MANIFEST_MEDIA_TYPE)
      throw new Error(`tag ${e.tag} is a ${d.mediaType}, not an image manifest`);
    const { mediaType, digest, size } = d;
    manifests.push({ mediaType, digest, size, platform: { ...e.platform } });
  }
  const blob = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests }),
  );
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  await writeFile(join(layoutDir, 'blobs', ...digest.split(':')), blob);

  // The layout's own index.json tags it, replacing an older `tag`; written atomically.
  const index = await readLayoutIndex(layoutDir);
  const tagged = { mediaType: INDEX_MEDIA_TYPE, digest, size: blob.length };
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  index.manifests.push({ ...tagged, annotations: { [REF_NAME]: tag } });
  const tmp = join(layoutDir, `.index.json.${process.pid}`);
  await writeFile(tmp, JSON.stringify(index));
  await rename(tmp, join(layoutDir, 'index.json'));
  return digest;
}

/** skopeo's flags to reach `registry` as the destination: plain HTTP, its creds or none at all. */
function destArgs(registry: TestRegistry): string[] {
  const creds = registry.auth
    ? ['--dest-creds', `${registry.auth.username}:${registry.auth.password}`]
    : ['--dest-no-creds'];
  return ['--dest-tls-verify=false', ...creds];
}

/** `skopeo copy` from the layout to `registry`; returns the digest skopeo reports as pushed. */
async function copyToRegistry(
  layoutDir: string,
  tag: string,
  registry: TestRegistry,
  repo: string,
  extra: string[],
): Promise<PushedImage> {
  const ref = `${registry.host}/${repo}`;
  const work = await mkdtemp(join(tmpdir(), 'tt-push-'));
  try {
    const digestFile = join(work, 'digest');
    const args = ['copy', '--quiet', ...extra, '--digestfile', digestFile, ...destArgs(registry)];
    await runTool(
      'skopeo',
      [...args, `oci:${layoutDir}:${tag}`, `docker://${ref}`],
      SKOPEO_TIMEOUT_MS,
    );
    return { ref, digest: (await readFile(digestFile, 'utf8')).trim() };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Pushes image `tag` of the layout to `registry` as `repo` (`name:tag`), with the registry's
 * credentials if it has any (a copy of the registry without `auth` pushes anonymously).
 * With `format: 'v2s2'` skopeo converts the manifest, so the digest differs from the layout's.
 */
export async function pushTestImage(
  layoutDir: string,
  tag: string,
  registry: TestRegistry,
  repo: string,
  options: PushTestImageOptions = {},
): Promise<PushedImage> {
  return copyToRegistry(layoutDir, tag, registry, repo, ['--format', options.format ?? 'oci']);
}

/**
 * Pushes index `tag` of the layout (see `buildTestIndex`) with all its images (`--all`). The
 * index is pushed byte for byte (`--preserve-digests`), so its digest is the layout's.
 */
export async function pushTestIndex(
  layoutDir: string,
  tag: string,
  registry: TestRegistry,
  repo: string,
): Promise<PushedImage> {
  return copyToRegistry(layoutDir, tag, registry, repo, ['--all', '--preserve-digests']);
}
