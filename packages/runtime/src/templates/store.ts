/**
 * The template store: builds templates once, caches them under one directory and hands out
 * their read-only roots. Rules:
 * - A template is built once and shared read-only; sandboxes write to their own overlay (made
 *   by the driver), never to a template's rootfs.
 * - In one process, concurrent `ensure()`/`build()` calls for a template share one build; across
 *   processes a lock file serialises builds (see `lock.ts`).
 * - A build happens in a temp dir renamed into place; a crashed or cancelled build leaves
 *   nothing that looks built, and its leftovers are removed by the next build.
 * - Rebuilding or removing a template while sandboxes run on it is the caller's concern.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildTemplate, removeLeftovers } from './build-dir.js';
import type { BuildContext, TemplateDefinition } from './builder.js';
import { TEMPLATE_NAMES, templateDefinition } from './catalog.js';
import { removeTree } from './fs-safe.js';
import { readTemplate, templatePaths } from './layout.js';
import { acquireLock } from './lock.js';
import { hostDebianMirror } from './mirror.js';
import { SharedBuild } from './shared-build.js';
import type { TemplateInfo, TemplateProgress } from './types.js';

/** Options of a `TemplateStore`. */
export interface TemplateStoreOptions {
  /** Cache directory; created if missing. Usually `defaultTemplateDir()`. */
  dir: string;
  /** Receives the progress of every build this store runs. */
  onProgress?: (p: TemplateProgress) => void;
  /** Host static busybox. Default `/bin/busybox` (Debian's busybox-static). */
  busyboxPath?: string;
  /** Debian mirror for debootstrap. Default: the host apt's bookworm mirror, else deb.debian.org. */
  debianMirror?: string;
}

/** Options of one `ensure()` or `build()` call. */
export interface EnsureOptions {
  /** Cancels this caller's wait; the build stops once every waiting caller cancelled. */
  signal?: AbortSignal;
  onProgress?: (p: TemplateProgress) => void;
}

/** A template as listed by `TemplateStore.list()`. */
export interface TemplateListing {
  name: string;
  description: string;
  built: boolean;
  info?: TemplateInfo;
}

/** Builds, caches and serves templates; see the file header for the rules. */
export class TemplateStore {
  private readonly dir: string;
  private readonly inflight = new Map<string, SharedBuild<TemplateInfo>>();
  /**
   * `ensure()` answers already given, by name: every sandbox creation asks, and re-reading
   * `info.json` each time costs a few thread-pool round trips per run. Forgotten when this store
   * builds or removes the template (`generation` keeps an answer read before that from being
   * remembered after it). A rebuild by another process renames the new root into the same path,
   * so a remembered answer still points at the current root.
   */
  private readonly ensured = new Map<string, TemplateInfo>();
  private generation = 0;

  constructor(private readonly options: TemplateStoreOptions) {
    this.dir = resolve(options.dir);
  }

  /** Every known template with its build state. */
  async list(): Promise<TemplateListing[]> {
    return Promise.all(
      TEMPLATE_NAMES.map(async (name) => {
        const def = templateDefinition(name);
        const info = await readTemplate(this.dir, name, def.builderVersion);
        return {
          name,
          description: def.description,
          built: info !== undefined,
          ...(info ? { info } : {}),
        };
      }),
    );
  }

  /** The built template, or undefined when not built. Throws `InvalidArgumentError` for an unknown name. */
  async get(name: string): Promise<TemplateInfo | undefined> {
    const def = templateDefinition(name);
    return readTemplate(this.dir, name, def.builderVersion);
  }

  /**
   * The built template, building it first if needed. Concurrent calls (same process) share one
   * build; a lock file guards against two processes building the same template at once.
   */
  async ensure(name: string, options: EnsureOptions = {}): Promise<TemplateInfo> {
    const known = this.ensured.get(name);
    if (known) return known;
    const generation = this.generation;
    const def = templateDefinition(name);
    const info =
      (await readTemplate(this.dir, name, def.builderVersion)) ??
      (await this.shared(def, false).join(options.signal, options.onProgress));
    if (generation === this.generation) this.ensured.set(name, info);
    return info;
  }

  private forgetEnsured(name: string): void {
    this.ensured.delete(name);
    this.generation += 1;
  }

  /** (Re)builds a template; `force` rebuilds even if built. */
  async build(
    name: string,
    options: EnsureOptions & { force?: boolean } = {},
  ): Promise<TemplateInfo> {
    const def = templateDefinition(name);
    this.forgetEnsured(name);
    if (options.force) {
      // Let a running build finish first: a forced rebuild must start after it, not join it.
      await this.inflight.get(name)?.done.catch(() => undefined);
    }
    try {
      return await this.shared(def, options.force ?? false).join(options.signal, options.onProgress);
    } finally {
      // Again at the end: an `ensure()` that read the old info during the build must not keep it.
      this.forgetEnsured(name);
    }
  }

  /** Deletes a built template (and any leftovers of its builds). Missing is fine. */
  async remove(name: string): Promise<void> {
    const def = templateDefinition(name);
    this.forgetEnsured(name);
    await this.inflight.get(name)?.done.catch(() => undefined);
    await mkdir(this.dir, { recursive: true });
    const release = await acquireLock(templatePaths(this.dir, def.name).lock);
    try {
      await removeLeftovers(this.dir, def);
      await removeTree(templatePaths(this.dir, def.name).root);
    } finally {
      await release();
      this.forgetEnsured(name);
    }
  }

  private shared(def: TemplateDefinition, force: boolean): SharedBuild<TemplateInfo> {
    const running = this.inflight.get(def.name);
    if (running) return running;
    const build = new SharedBuild<TemplateInfo>((signal, emit) =>
      this.locked(def, force, signal, emit),
    );
    this.inflight.set(def.name, build);
    const forget = (): void => {
      if (this.inflight.get(def.name) === build) this.inflight.delete(def.name);
    };
    void build.done.then(forget, forget);
    return build;
  }

  private async locked(
    def: TemplateDefinition,
    force: boolean,
    signal: AbortSignal,
    emit: (p: TemplateProgress) => void,
  ): Promise<TemplateInfo> {
    const report = (phase: string, message: string, fraction?: number): void => {
      const p: TemplateProgress = {
        template: def.name,
        phase,
        message,
        ...(fraction === undefined ? {} : { fraction }),
      };
      this.options.onProgress?.(p);
      emit(p);
    };
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const release = await acquireLock(templatePaths(this.dir, def.name).lock, {
      signal,
      onWait: (pid) => report('wait', `waiting for process ${pid}, which is building ${def.name}`),
    });
    try {
      // Another process may have built it while we waited for the lock.
      const built = force ? undefined : await readTemplate(this.dir, def.name, def.builderVersion);
      if (built) return built;
      await removeLeftovers(this.dir, def);
      return await buildTemplate(this.dir, def, await this.context(def, signal, report));
    } finally {
      await release();
    }
  }

  private async context(
    def: TemplateDefinition,
    signal: AbortSignal,
    report: BuildContext['report'],
  ): Promise<Omit<BuildContext, 'rootfs'>> {
    return {
      name: def.name,
      cacheDir: join(this.dir, '.cache'),
      signal,
      busyboxPath: this.options.busyboxPath ?? '/bin/busybox',
      debianMirror: this.options.debianMirror ?? (await hostDebianMirror('bookworm')),
      report,
    };
  }
}
