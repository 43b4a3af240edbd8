/**
 * The Runtime facade: one object that holds the template store and every driver, resolves
 * sandbox options once, and runs a command to completion. The agent, the server's embedded
 * mode, the tests and the benchmarks use it; none of them picks a driver class themselves.
 *
 * Scope: one Runtime owns what lives under its `stateDir` (state dirs and the runtimes' own
 * `--root` directories). `list()`, `adopt()` and `cleanupOrphans()` never see sandboxes of
 * another Runtime with another stateDir (a test run never touches `tartarus up`'s sandboxes).
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, RuntimeUnavailableError } from '@tartarus/core';
import type { Availability, Driver, ProcessResult, RuntimeName, SandboxHandle, SandboxInfo } from './driver.js';
import { ContainerDriver } from './drivers/container/index.js';
import { GvisorDriver } from './drivers/gvisor/index.js';
import { MicrovmDriver } from './drivers/microvm/index.js';
import { resolveSandboxOptions, type SandboxOptions } from './options.js';
import { TemplateStore } from './templates/store.js';
import { defaultTemplateDir } from './templates/layout.js';

/** What a driver factory gets. */
export interface DriverContext {
  /** The Runtime's state directory; a driver keeps its objects under `<stateDir>/<name>/`. */
  stateDir: string;
}

/** Makes a driver for one Runtime. */
export type DriverFactory = (ctx: DriverContext) => Driver;

/**
 * The driver registry. A new backend joins with one line here (and then runs the conformance
 * suite for free): `microvm: (ctx) => new MicrovmDriver(ctx)`.
 */
export const DRIVER_FACTORIES: Partial<Record<RuntimeName, DriverFactory>> = {
  container: (ctx) => new ContainerDriver(ctx),
  gvisor: (ctx) => new GvisorDriver(ctx),
  microvm: (ctx) => new MicrovmDriver(ctx),
};

/** Options of a `Runtime`. */
export interface RuntimeOptions {
  /** Where sandbox state lives (must survive a restart of the process for adopt()). */
  stateDir: string;
  /** Template cache. Default `$TARTARUS_TEMPLATE_DIR` or /var/cache/tartarus/templates. */
  templateDir?: string;
  /** A store to share instead of making one over `templateDir`. */
  templates?: TemplateStore;
  /** Driver registry. Default `DRIVER_FACTORIES`. */
  drivers?: Partial<Record<RuntimeName, DriverFactory>>;
}

/** Default wall-clock limit of `Runtime.run()` when the caller gives none (10 minutes). */
export const DEFAULT_RUN_TIMEOUT_MS = 600_000;

/** A finished `run()`: the process result plus where it ran. */
export interface SandboxRunResult extends ProcessResult {
  id: string;
  runtime: RuntimeName;
}

/** Templates plus drivers; see the file header. */
export class Runtime {
  readonly stateDir: string;
  readonly templates: TemplateStore;
  private readonly factories: Partial<Record<RuntimeName, DriverFactory>>;
  private readonly drivers = new Map<RuntimeName, Driver>();

  constructor(options: RuntimeOptions) {
    if (!options.stateDir) throw new InvalidArgumentError('Runtime needs a stateDir');
    // Absolute: it ends up in runc/runsc command lines and overlay options run from other cwds.
    this.stateDir = resolve(options.stateDir);
    this.templates = options.templates ?? new TemplateStore({ dir: options.templateDir ?? defaultTemplateDir() });
    this.factories = options.drivers ?? DRIVER_FACTORIES;
  }

  /** Names of the registered drivers, available or not. */
  driverNames(): RuntimeName[] {
    return Object.keys(this.factories) as RuntimeName[];
  }

  /** The driver `name`; `InvalidArgumentError` when it is not registered. */
  driver(name: RuntimeName): Driver {
    let d = this.drivers.get(name);
    if (d) return d;
    const factory = this.factories[name];
    if (!factory) {
      throw new InvalidArgumentError(`unknown runtime ${JSON.stringify(name)}: use one of ${this.driverNames().join(', ')}`);
    }
    d = factory({ stateDir: this.stateDir });
    this.drivers.set(name, d);
    return d;
  }

  /** Whether each registered driver works here, with the reason when it does not. */
  async available(): Promise<Record<string, Availability>> {
    const names = this.driverNames();
    const results = await Promise.all(names.map((n) => this.driver(n).available()));
    return Object.fromEntries(names.map((n, i) => [n, results[i] as Availability]));
  }

  /** Resolves `options` against its template and creates the sandbox (not started). */
  async createSandbox(options: SandboxOptions, signal?: AbortSignal): Promise<SandboxHandle> {
    const driver = this.driver(options.runtime ?? 'container');
    const availability = await driver.available();
    if (!availability.ok) throw new RuntimeUnavailableError(`runtime ${driver.name} is unavailable: ${availability.reason}`);
    const template = await this.templates.ensure(options.template, signal ? { signal } : {});
    return driver.create(resolveSandboxOptions(options, template), signal);
  }

  /**
   * Runs a command to completion in a fresh sandbox: create, start, wait, destroy. The
   * workload's failure (non-zero exit, timeout, OOM) is in the result; aborting kills it.
   */
  async run(options: SandboxOptions, signal?: AbortSignal): Promise<SandboxRunResult> {
    const sandbox = await this.createSandbox({ timeoutMs: DEFAULT_RUN_TIMEOUT_MS, ...options }, signal);
    const onAbort = (): void => void sandbox.kill({ graceMs: 0 });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await sandbox.start(signal);
      const result = await sandbox.wait();
      return { ...result, id: sandbox.id, runtime: sandbox.runtime };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await sandbox.destroy();
    }
  }

  /** Every sandbox of this Runtime found on the host, across the available drivers it used. */
  async list(): Promise<SandboxInfo[]> {
    const names = await this.availableNames();
    return (await Promise.all(names.map((n) => this.driver(n).list()))).flat();
  }

  /** Re-attaches to a running or paused sandbox after a restart. */
  adopt(runtime: RuntimeName, id: string): Promise<SandboxHandle> {
    return this.driver(runtime).adopt(id);
  }

  /** Destroys every sandbox found on the host whose id is not in `keep`; returns their ids. */
  async cleanupOrphans(keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const orphans = (await this.list()).filter((s) => !keep.has(s.id));
    for (const s of orphans) await this.driver(s.runtime).destroy(s.id);
    return orphans.map((s) => s.id);
  }

  // Drivers that ever made something here (a `<stateDir>/<name>` dir) and work on this host: a
  // driver never used by this Runtime is not probed (the microvm probe boots a VM).
  private async availableNames(): Promise<RuntimeName[]> {
    const used = await Promise.all(
      this.driverNames().map((n) => access(join(this.stateDir, n)).then(() => n, () => undefined)),
    );
    const names = used.filter((n): n is RuntimeName => n !== undefined);
    const avail = await Promise.all(names.map((n) => this.driver(n).available()));
    return names.filter((_, i) => avail[i]?.ok);
  }
}
