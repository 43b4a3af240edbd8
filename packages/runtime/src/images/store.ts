/**
 * The image store: pulls OCI and Docker images by reference with skopeo, unpacks them with umoci
 * into read-only roots cached by manifest digest, and hands them out as templates. Rules:
 * - A reference is resolved to a manifest digest first (a multi-arch index picks linux/amd64);
 *   everything after is keyed by that digest, so two tags of one image share one root.
 * - Concurrent pulls of one digest fetch once: in one process they share the fetch, across
 *   processes a lock file serialises them and the second finds the root ready.
 * - Blobs live in one shared directory: a layer is fetched once whatever image it belongs to.
 * - `ensure()` is Docker's `if-not-present`: a reference seen before is not resolved again.
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { forgetOwner, recordOwner } from '../gc/owners.js';
import { allocateUidRange, releaseUidRange } from '../sandbox/uid-ranges.js';
import { InvalidArgumentError, LOCAL_IMAGE_REGISTRY } from '@tartarus/core';
import { SharedBuild } from '../templates/shared-build.js';
import { acquireLock } from '../templates/lock.js';
import { treeSizeBytes } from '../templates/layout.js';
import type { TemplateInfo, TemplateProgress } from '../templates/types.js';
import { imageDefaults } from './config.js';
import { buildWithBuildah, checkDockerfilePath, contextDockerfile, fromRegistries, unpackContext } from './build.js';
import { collectImages, type CollectOptions, type Collection } from './gc.js';
import { imagePaths, readRecord, readRecords, readRef, removeStaleTmp, touchUsed, writeRef, type ImageRecord } from './layout.js';
import { isIndex, parseManifest, pickPlatform, sha256Digest, type Manifest } from './manifest.js';
import { fetchAndUnpack, unpackLayout, type PullProgress, type Unpacked } from './pull.js';
import { isLoopbackRegistry, parseImageRef, pinned, type ImageRef } from './reference.js';
import { checkRegistryOptions, tlsVerify, withAuthFile, writeRegistriesConf, type RegistryAuth, type RegistryOptions } from './registries.js';
import { inspectRaw, type SkopeoAccess } from './skopeo.js';

/** Options of an `ImageStore`. */
export interface ImageStoreOptions {
  /** Store directory, usually `<templateDir>/images`. */
  dir: string;
  registries?: RegistryOptions;
}

/** What a reference resolved to, and where. */
interface Resolved {
  digest: string;
  manifest: Manifest;
  /** The registry or mirror that answered (the fetch goes there too). */
  host: string;
}

/** Options of one pull. */
export interface PullOptions {
  auth?: RegistryAuth | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: TemplateProgress) => void) | undefined;
}

/** An image ready to start sandboxes from. */
export interface ImageInfo {
  /** The reference as normalised (`docker.io/library/nginx:latest`). */
  ref: string;
  record: ImageRecord;
  template: TemplateInfo;
}

/** Pulls, caches and serves images; see the file header for the rules. */
export class ImageStore {
  readonly dir: string;
  private readonly registries: RegistryOptions;
  private readonly inflight = new Map<string, SharedBuild<ImageRecord>>();
  /** Fetches this store actually performed (a cached or shared pull does not count). */
  fetches = 0;

  constructor(options: ImageStoreOptions) {
    this.dir = resolve(options.dir);
    this.registries = options.registries ?? {};
    checkRegistryOptions(this.registries);
  }

  /** The image behind `ref`, pulled unless already here (a tag seen before is not resolved again). */
  async ensure(ref: string, options: PullOptions = {}): Promise<ImageInfo> {
    const parsed = parseImageRef(ref);
    const known = parsed.digest && (await readRecord(this.dir, parsed.digest)) ? parsed.digest : await readRef(this.dir, parsed.canonical);
    const record = known === undefined ? undefined : await readRecord(this.dir, known);
    if (record) return this.use(parsed, record);
    return this.pull(ref, options);
  }

  /** Resolves `ref` at its registry and pulls what it names now, unless that digest is already here. */
  async pull(ref: string, options: PullOptions = {}): Promise<ImageInfo> {
    const parsed = parseImageRef(ref);
    if (parsed.registry === LOCAL_IMAGE_REGISTRY) {
      // Built here from a Dockerfile: there is no registry to ask (and no name to look up).
      throw new InvalidArgumentError(`image ${ref} is not on this node (built from a Dockerfile elsewhere, or collected): rebuild its template`, {
        context: { image: ref },
      });
    }
    const resolved = await this.resolve(parsed, options);
    await writeRef(this.dir, parsed.canonical, resolved.digest);
    const ready = await readRecord(this.dir, resolved.digest);
    if (ready) return this.use(parsed, ready);
    const record = await this.shared(parsed, resolved, options).join(options.signal, options.onProgress);
    return this.use(parsed, record);
  }

  /** Removes unused images, least recently used first, until the store fits the budget (gc.ts). */
  collect(options: CollectOptions): Promise<Collection> {
    return collectImages(this.dir, options);
  }

  /** Every image here. */
  list(): Promise<ImageRecord[]> {
    return readRecords(this.dir);
  }

  /** The image with manifest `digest`, if here. */
  get(digest: string): Promise<ImageRecord | undefined> {
    return readRecord(this.dir, digest);
  }

  /** The template an image record makes. */
  templateOf(ref: string, record: ImageRecord): TemplateInfo {
    return {
      name: ref,
      rootfsPath: imagePaths(this.dir).rootfs(record.digest),
      defaults: imageDefaults(record.config),
      digest: record.digest.slice(7),
      sizeBytes: record.sizeBytes,
      builtAtMs: record.pulledAtMs,
    };
  }

  private async use(parsed: ImageRef, record: ImageRecord): Promise<ImageInfo> {
    await touchUsed(this.dir, record.digest);
    return { ref: parsed.canonical, record, template: this.templateOf(parsed.canonical, record) };
  }

  private async withAccess<T>(parsed: ImageRef, options: PullOptions, host: string, fn: (a: SkopeoAccess) => Promise<T>): Promise<T> {
    // Credentials are the registry's: a mirror is asked anonymously (the auth file has no entry for it).
    const auths = options.auth ? { [parsed.registry]: options.auth } : undefined;
    return withAuthFile(imagePaths(this.dir).tmp, auths, (authFile) =>
      fn({ tlsVerify: tlsVerify(host, this.registries), authFile, signal: options.signal }),
    );
  }

  /**
   * The manifest digest `parsed` names now, for this machine's platform, that manifest, and the
   * host that answered: its mirrors first, in order (as Docker's registry-mirrors), then the
   * registry itself, whose error is the one reported when none answers.
   */
  private async resolve(parsed: ImageRef, options: PullOptions): Promise<Resolved> {
    const hosts = [...(this.registries.mirrors?.[parsed.registry] ?? []), parsed.registry];
    for (const [i, host] of hosts.entries()) {
      try {
        return await this.withAccess(parsed, options, host, (access) => this.resolveAt(parsed, host, access));
      } catch (err) {
        if (i === hosts.length - 1 || options.signal?.aborted) throw err;
      }
    }
    throw new Error('unreachable');
  }

  private async resolveAt(parsed: ImageRef, host: string, access: SkopeoAccess): Promise<Resolved> {
    const name = parsed.canonical;
    const at = { ...parsed, registry: host };
    let raw = await inspectRaw(`docker://${host}/${parsed.repository}${parsed.tag && !parsed.digest ? `:${parsed.tag}` : ''}${parsed.digest ? `@${parsed.digest}` : ''}`, name, access);
    let digest = parsed.digest ?? sha256Digest(raw);
    if (isIndex(raw, name)) {
      digest = pickPlatform(raw, name);
      raw = await inspectRaw(`docker://${pinned(at, digest)}`, name, access);
    }
    return { digest, manifest: parseManifest(raw, name), host };
  }

  private shared(parsed: ImageRef, resolved: Resolved, options: PullOptions): SharedBuild<ImageRecord> {
    let build = this.inflight.get(resolved.digest);
    if (build) return build;
    build = new SharedBuild<ImageRecord>((signal, emit) => this.fetchLocked(parsed, resolved, { ...options, signal }, emit));
    this.inflight.set(resolved.digest, build);
    const forget = (): void => void this.inflight.delete(resolved.digest);
    void build.done.then(forget, forget);
    return build;
  }

  /** Runs `fn` in a fresh working dir under tmp/ (made under the collector's lock, removed after). */
  private async withWorkDir<T>(signal: AbortSignal | undefined, fn: (work: string) => Promise<T>): Promise<T> {
    const paths = imagePaths(this.dir);
    // Root only: tenants' roots hold their setuid files; every reader (tt-layer's idmapped mount,
    // gVisor's gofer, mkfs for microVMs) is root.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    await Promise.all([paths.locks, paths.roots, paths.tmp].map((d) => mkdir(d, { recursive: true })));
    // A collection that sees no working dir may remove blobs: so a working dir is made under its lock.
    const gcLock = await acquireLock(join(paths.locks, 'gc.lock'), { signal });
    let work: string;
    try {
      await removeStaleTmp(this.dir);
      work = await mkdtemp(join(paths.tmp, `${process.pid}-`));
    } finally {
      await gcLock();
    }
    try {
      return await fn(work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Makes the root of manifest `digest` unless a process already did: under the digest's lock,
   * `unpack` fills `<work>/root/rootfs` and returns the config; the root is renamed into place
   * with its record.
   */
  private async materialize(
    ref: string,
    digest: string,
    work: string,
    signal: AbortSignal | undefined,
    unpack: (rootfs: string) => Promise<Unpacked>,
  ): Promise<ImageRecord> {
    const paths = imagePaths(this.dir);
    const release = await acquireLock(paths.lock(digest), { signal });
    try {
      const ready = await readRecord(this.dir, digest);
      if (ready) return ready;
      const rootDir = join(work, 'root');
      await mkdir(rootDir);
      const { config, blobs } = await unpack(join(rootDir, 'rootfs'));
      const record: ImageRecord = {
        ref,
        digest,
        config,
        blobs,
        sizeBytes: await treeSizeBytes(join(rootDir, 'rootfs'), signal),
        pulledAtMs: Date.now(),
      };
      await writeFile(join(rootDir, 'image.json'), JSON.stringify(record, null, 2));
      await writeFile(join(rootDir, 'used'), '');
      await rename(rootDir, paths.root(digest));
      return record;
    } finally {
      await release();
    }
  }

  private fetchLocked(
    parsed: ImageRef,
    resolved: Resolved,
    options: PullOptions,
    emit: (p: TemplateProgress) => void,
  ): Promise<ImageRecord> {
    return this.withWorkDir(options.signal, (work) =>
      this.materialize(parsed.canonical, resolved.digest, work, options.signal, (rootfs) => {
        this.fetches++;
        return this.withAccess(parsed, options, resolved.host, (access) =>
          fetchAndUnpack({
            source: `docker://${pinned({ ...parsed, registry: resolved.host }, resolved.digest)}`,
            ref: parsed.canonical,
            manifest: resolved.manifest,
            layoutDir: join(work, 'layout'),
            blobsDir: imagePaths(this.dir).blobs,
            rootfs,
            access,
            onProgress: (p) => emit(progressOf(parsed.canonical, p)),
          }),
        );
      }),
    );
  }

  /**
   * Builds an image from a Dockerfile (build.ts) and keeps it under `tag`: `context` is a tar
   * archive of the build context; `auth` gives credentials per registry for the base images.
   */
  async build(o: BuildOptions): Promise<ImageInfo> {
    const parsed = parseImageRef(o.tag);
    checkDockerfilePath(o.dockerfile);
    const paths = imagePaths(this.dir);
    const record = await this.withWorkDir(o.signal, async (work) => {
      const contextDir = join(work, 'context');
      await unpackContext(o.context, contextDir, o.signal);
      // The build's own registries.conf: the store's settings plus the loopback registries its FROM lines name.
      const dockerfileText = await readFile(await contextDockerfile(contextDir, o.dockerfile), 'utf8');
      const loopback = fromRegistries(dockerfileText).filter(isLoopbackRegistry);
      const registriesConf = await writeRegistriesConf(join(this.dir, 'conf'), {
        ...this.registries,
        insecure: [...(this.registries.insecure ?? []), ...loopback],
      });
      const layoutDir = join(work, 'layout');
      // The build's own uid range, held (with an owner record, so gc keeps it) until it ends.
      const buildId = `bld-${basename(work)}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
      await recordOwner(buildId, { dir: work, runtime: 'container' });
      let built: Awaited<ReturnType<typeof buildWithBuildah>>;
      try {
        const uidBase = await allocateUidRange(buildId);
        built = await withAuthFile(paths.tmp, o.auth, (authFile) =>
          buildWithBuildah(
            { tag: parsed.canonical, contextDir, dockerfile: o.dockerfile, buildahDir: join(this.dir, 'buildah'), registriesConf, authFile, layoutDir, uidBase, signal: o.signal, report: (p) => o.onProgress?.(p) },
            paths.blobs,
          ),
        );
      } finally {
        await releaseUidRange(buildId);
        await forgetOwner(buildId);
      }
      o.onProgress?.({ template: parsed.canonical, phase: 'unpack', message: 'unpacking layers', fraction: 1 });
      return this.materialize(parsed.canonical, built.digest, work, o.signal, async (rootfs) => ({
        config: await unpackLayout(layoutDir, paths.blobs, built.manifest, rootfs, parsed.canonical, o.signal),
        blobs: [built.manifest.config.digest, ...built.manifest.layers.map((l) => l.digest)],
      }));
    });
    await writeRef(this.dir, parsed.canonical, record.digest);
    return this.use(parsed, record);
  }
}

/** Options of `ImageStore.build`. */
export interface BuildOptions {
  /** The reference the result is kept under, e.g. `tartarus.local/ten_1/app:latest`. */
  tag: string;
  /** A tar archive of the build context. */
  context: Buffer;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
  auth?: Record<string, RegistryAuth> | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: TemplateProgress) => void) | undefined;
}

const MiB = 1024 * 1024;

/** A pull's progress as a template build's (the shape the API streams). */
export function progressOf(ref: string, p: PullProgress): TemplateProgress {
  const mib = (n: number): string => (n / MiB).toFixed(1);
  const message =
    p.phase === 'unpack' ? 'unpacking layers' : p.phase === 'done' ? 'ready' : `layers ${p.layersDone}/${p.layersTotal}, ${mib(p.bytesDone)}/${mib(p.bytesTotal)} MiB`;
  return {
    template: ref,
    phase: p.phase,
    message,
    fraction: p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 1,
    layersDone: p.layersDone,
    layersTotal: p.layersTotal,
    bytesDone: p.bytesDone,
    bytesTotal: p.bytesTotal,
  };
}
