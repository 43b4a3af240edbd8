/**
 * The Runtime facade: one object that holds the template store and every driver, resolves
 * sandbox options once, and runs a command to completion. The agent, the server's embedded
 * mode, the tests and the benchmarks use it; none of them picks a driver class themselves.
 *
 * Scope: one Runtime owns what lives under its `stateDir` (state dirs and the runtimes' own
 * `--root` directories). `list()`, `adopt()` and `cleanupOrphans()` never see sandboxes of
 * another Runtime with another stateDir (a test run never touches `tartarus up`'s sandboxes).
 */
import { existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConflictError, InvalidArgumentError, LOCAL_IMAGE_REGISTRY, parseImageRef, RuntimeUnavailableError } from '@tartarus/core';
import type { Availability, Driver, ProcessResult, RuntimeName, SandboxHandle, SandboxInfo } from './driver.js';
import { ContainerDriver } from './drivers/container/index.js';
import { GvisorDriver } from './drivers/gvisor/index.js';
import { MicrovmDriver } from './drivers/microvm/index.js';
import { resolveSandboxOptions, type SandboxOptions } from './options.js';
import { resolveUser } from './sandbox/user.js';
import { ClaimedSandbox, claimsDir, readClaim, readClaims, removeClaim, writeClaim } from './pool/claimed.js';
import { poolKey, WarmPools, type PoolConfig } from './pool/pool.js';
import { SnapshotStore } from './snapshots/store.js';
import { TemplateStore } from './templates/store.js';
import { defaultTemplateDir } from './templates/layout.js';
import { templateDefinition } from './templates/catalog.js';
import type { TemplateInfo } from './templates/types.js';
import { ImageStore } from './images/store.js';
import type { RegistryOptions } from './images/registries.js';
import type { Collection } from './images/gc.js';
import { defaultAssetDir } from './drivers/microvm/assets.js';
import { networkConfig, type NetworkConfig, type NetworkOptions } from './network/config.js';
import { machineNetworkCount, SandboxNetworks } from './network/sandbox.js';
import { EgressResolver } from './network/resolve.js';
import { DnsRelay } from './network/dns.js';
import { collectHostNetwork } from './network/host.js';
import { checkServiceNames, namesWriter, writeServiceNames } from './network/names.js';

/** What a driver factory gets. */
export interface DriverContext {
  /** The Runtime's state directory; a driver keeps its objects under `<stateDir>/<name>/`. */
  stateDir: string;
  /** The sandboxes' networks (network/), made on first use. */
  networks: () => SandboxNetworks;
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
  /** Warm pools (pool/pool.ts), booted once `startPools()` is called. Default none. */
  pools?: PoolConfig[];
  /** Image store to share; default one under `<templateDir>/images` with `registries`. */
  images?: ImageStore;
  /** Mirrors and insecure registries for image pulls. */
  registries?: RegistryOptions;
  /** The node's sandbox network (pool, bridge, DNS upstream, extra denied destinations). */
  network?: NetworkOptions;
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
  /** Filesystem snapshots of sandboxes, next to the templates (snapshots/). */
  readonly snapshots: SnapshotStore;
  /** OCI images as templates (images/). */
  readonly images: ImageStore;
  private readonly factories: Partial<Record<RuntimeName, DriverFactory>>;
  private readonly drivers = new Map<RuntimeName, Driver>();
  /** The warm pools; `createSandbox` takes from them when the caller's template, runtime and limits match one. */
  readonly pools: WarmPools;
  private readonly poolConfigs: PoolConfig[];
  private readonly networkConfig: NetworkConfig;
  private networkState: { networks: SandboxNetworks; dns: DnsRelay } | undefined;

  constructor(options: RuntimeOptions) {
    if (!options.stateDir) throw new InvalidArgumentError('Runtime needs a stateDir');
    // Absolute: it ends up in runc/runsc command lines and overlay options run from other cwds.
    this.stateDir = resolve(options.stateDir);
    this.templates = options.templates ?? new TemplateStore({ dir: options.templateDir ?? defaultTemplateDir() });
    this.snapshots = new SnapshotStore(join(options.templateDir ?? defaultTemplateDir(), 'snapshots'));
    this.images =
      options.images ??
      new ImageStore({ dir: join(options.templateDir ?? defaultTemplateDir(), 'images'), ...(options.registries ? { registries: options.registries } : {}) });
    this.factories = options.drivers ?? DRIVER_FACTORIES;
    this.pools = new WarmPools((config, own) => this.bootPooled(config, own));
    this.poolConfigs = options.pools ?? [];
    try {
      this.networkConfig = networkConfig(options.network);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  }

  /** The sandboxes' networks; the first call also starts the sandboxes' DNS relay. */
  networks(): SandboxNetworks {
    if (!this.networkState) {
      const cfg = this.networkConfig;
      const networks = new SandboxNetworks(cfg, new EgressResolver(cfg.dnsUpstream, cfg.nameRefreshMs), join(this.stateDir, 'net-spares'));
      const dns = new DnsRelay(cfg.gateway, cfg.dnsUpstream);
      networks.onHostReady = () => dns.start();
      this.networkState = { networks, dns };
    }
    return this.networkState.networks;
  }

  /**
   * Replaces the service names of network group `group` that this Runtime was told: name → ids of
   * sandboxes in the group (network/names.ts). The machine's DNS relay answers a name to the
   * group's members with the addresses of the listed sandboxes that are members now; `{}` removes
   * them (they also go with the group's last member). Names are lowercase DNS names.
   */
  async setServiceNames(group: string, names: Record<string, string[]>): Promise<void> {
    checkServiceNames(group, names);
    await writeServiceNames(namesWriter(this.stateDir), group, names);
  }

  /** Throws `InvalidArgumentError` naming what to change in a pool config (size, runtime, template); builds nothing. */
  checkPools(configs: PoolConfig[]): void {
    // Pools are told apart by template, runtime, limits and network: two alike would be one pool.
    const seen = new Map<string, number>();
    configs.forEach((c, i) => {
      const same = JSON.stringify([c.template, c.runtime, c.network === true, Object.entries(c.limits ?? {}).sort()]);
      const first = seen.get(same);
      if (first !== undefined) {
        throw new InvalidArgumentError(`pools ${first + 1} and ${i + 1} (${c.template}/${c.runtime}) have the same template, runtime, limits and network: merge them into one`);
      }
      seen.set(same, i);
    });
    for (const config of configs) {
      if (!Number.isInteger(config.size) || config.size < 0) {
        throw new InvalidArgumentError(`pool ${config.template}/${config.runtime}: size must be a whole number ≥ 0, got ${config.size}`);
      }
      const a = config.autoscale;
      if (a && !(Number.isInteger(a.min) && Number.isInteger(a.max) && a.min >= 0 && a.min <= config.size && config.size <= a.max)) {
        throw new InvalidArgumentError(`pool ${config.template}/${config.runtime}: autoscale needs whole numbers min ≤ size ≤ max, got min ${a.min}, size ${config.size}, max ${a.max}`);
      }
      this.driver(config.runtime);
      templateDefinition(config.template);
    }
  }

  /** Starts keeping the warm pools (`configs`, default the options') topped up; builds their templates first. */
  async startPools(configs: PoolConfig[] = this.poolConfigs): Promise<void> {
    this.checkPools(configs);
    const keyed = await Promise.all(
      configs.map(async (config) => {
        const template = await this.templates.ensure(config.template);
        const spec = resolveSandboxOptions({ template: config.template, runtime: config.runtime, limits: config.limits ?? {} }, template);
        return { key: poolKey(config.runtime, template.name, spec.limits, config.network === true), config };
      }),
    );
    await this.pools.configure(keyed);
  }

  /** Stops the pools and destroys their idle sandboxes. */
  stopPools(): Promise<void> {
    return this.pools.stop();
  }

  /** Releases what the Runtime keeps ahead of need (warm pools, waiting runtime processes); live sandboxes stay. */
  async close(): Promise<void> {
    await this.stopPools();
    for (const d of this.drivers.values()) d.close?.();
    const net = this.networkState;
    if (net) {
      await net.networks.close();
      net.dns.close();
      // The last networked sandbox of the machine is gone and no other live Runtime holds a lease
      // on the network (network/host.ts): no bridge or rules are left behind.
      if (await net.networks.machineIdleSoon(2000)) await collectHostNetwork(machineNetworkCount, this.networkConfig.bridge);
    }
  }

  private async bootPooled(config: PoolConfig, own: (id: string) => void): Promise<SandboxHandle> {
    const driver = this.driver(config.runtime);
    const template = await this.templates.ensure(config.template);
    const resolved = resolveSandboxOptions({ template: config.template, runtime: config.runtime, limits: config.limits ?? {} }, template);
    // A networked pool's sandbox boots with the pool's egress (default: it reaches nothing) and takes its caller's when handed out.
    const spec = config.network ? { ...resolved, network: { egress: config.egress ?? ('none' as const) } } : resolved;
    own(spec.id); // before create: list() must never report it, even half made
    const h = await driver.create(spec);
    try {
      if (!h.boot) throw new InvalidArgumentError(`runtime ${config.runtime} has no warm pools`);
      await h.boot();
      return h;
    } catch (err) {
      await h.destroy();
      throw err;
    }
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
    d = factory({ stateDir: this.stateDir, networks: () => this.networks() });
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
    if (options.hibernateAfterMs !== undefined && driver.name !== 'microvm') {
      throw new InvalidArgumentError(`hibernateAfterMs needs runtime microvm: only microVMs can save a sandbox's memory here (runtime ${driver.name})`);
    }
    const template = await this.templateFor(options, signal);
    options.onTemplateReady?.();
    const spec = resolveSandboxOptions(options, template);
    const key = poolKey(driver.name, template.name, spec.limits, spec.network !== undefined);
    // A bad user is the caller's error: found before a pooled sandbox is spent on it.
    if (this.pools.has(key)) await resolveUser(template.rootfsPath, spec.process.user);
    // Whether the caller's name is free is looked up while a pooled sandbox is handed the spec.
    const free = options.id !== undefined && this.pools.has(key) ? this.checkFree(driver.name, spec.id) : undefined;
    free?.catch(() => undefined);
    const idleMain = options.command === undefined && options.entrypoint === undefined && options.whenNoCommand !== 'image';
    // A snapshot's files go in before its layer is mounted: never a booted pool sandbox.
    const pooled = spec.seed === undefined ? await this.pools.take(key, spec, { idleMain }) : undefined;
    if (!pooled) return driver.create(spec, signal);
    try {
      if (options.id === undefined) return pooled;
      // The caller named it: the pooled sandbox (whose host objects carry its own id) is claimed under that name.
      await free;
      await writeClaim(this.stateDir, spec.id, { runtime: driver.name, hostId: pooled.id });
      return new ClaimedSandbox(pooled, spec.id, this.stateDir);
    } catch (err) {
      await pooled.destroy();
      throw err;
    } finally {
      this.pools.handedOver(pooled.id);
    }
  }

  /**
   * Removes unused images (least recently used first, never one a sandbox on this machine runs
   * on) until the image store fits `budgetBytes`; their microVM disk images go with them.
   */
  collectImages(budgetBytes: number, minIdleMs?: number): Promise<Collection> {
    return this.images.collect({ budgetBytes, ...(minIdleMs === undefined ? {} : { minIdleMs }), vmImageDir: join(defaultAssetDir(), 'images') });
  }

  /** The template `options` start from: its image (pulled if not here yet) or a built-in template (built if needed). */
  async templateFor(options: Pick<SandboxOptions, 'template' | 'image' | 'registryAuth' | 'imagePull'>, signal?: AbortSignal): Promise<TemplateInfo> {
    if (options.image !== undefined) {
      const o = { auth: options.registryAuth, signal };
      // A Dockerfile build's image has no registry to ask: it is here or nowhere (the server only names it for its tenant).
      const cached = options.imagePull === 'if-not-present' || parseImageRef(options.image).registry === LOCAL_IMAGE_REGISTRY;
      const info = cached ? await this.images.ensure(options.image, o) : await this.images.pull(options.image, o);
      return info.template;
    }
    return this.templates.ensure(options.template, signal ? { signal } : {});
  }

  /**
   * Whether `id` is free on this machine. Two existence checks on the local state dir, made
   * synchronously: on the create path the asynchronous calls (a thread-pool trip and a thrown
   * ENOENT each) cost about a millisecond of CPU here, the sync ones a few microseconds.
   */
  private async checkFree(runtime: RuntimeName, id: string): Promise<void> {
    const taken = existsSync(join(this.stateDir, runtime, id));
    if (taken || (existsSync(join(claimsDir(this.stateDir), `${id}.json`)) && (await readClaim(this.stateDir, id)))) throw new ConflictError(`sandbox ${id} already exists: choose another id`);
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

  /**
   * Every sandbox of this Runtime found on the host, across the available drivers it used, under
   * the id its creator gave (a claimed pool sandbox's); idle pool sandboxes are not listed.
   */
  async list(): Promise<SandboxInfo[]> {
    const names = await this.availableNames();
    const [found, claims] = await Promise.all([Promise.all(names.map((n) => this.driver(n).list())), readClaims(this.stateDir)]);
    const idle = this.pools.ownedIds();
    const byHost = new Map([...claims].map(([id, c]) => [`${c.runtime}/${c.hostId}`, id]));
    return found
      .flat()
      .filter((s) => !idle.has(s.id))
      .map((s) => ({ ...s, id: byHost.get(`${s.runtime}/${s.id}`) ?? s.id }));
  }

  /** Re-attaches to a running or paused sandbox after a restart. */
  async adopt(runtime: RuntimeName, id: string): Promise<SandboxHandle> {
    const claim = await readClaim(this.stateDir, id);
    if (!claim) return this.driver(runtime).adopt(id);
    return new ClaimedSandbox(await this.driver(claim.runtime).adopt(claim.hostId), id, this.stateDir);
  }

  /** Removes every host object of sandbox `id` (as `list()` names it). Idempotent. */
  async destroy(runtime: RuntimeName, id: string): Promise<void> {
    const claim = await readClaim(this.stateDir, id);
    await this.driver(claim?.runtime ?? runtime).destroy(claim?.hostId ?? id);
    if (claim) await removeClaim(this.stateDir, id);
  }

  /** Destroys every sandbox found on the host whose id is not in `keep` (and claims whose sandbox is gone); returns their ids. */
  async cleanupOrphans(keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const listed = await this.list();
    const orphans = listed.filter((s) => !keep.has(s.id));
    for (const s of orphans) await this.destroy(s.runtime, s.id);
    const present = new Set(listed.map((s) => s.id));
    for (const id of (await readClaims(this.stateDir)).keys()) if (!present.has(id)) await removeClaim(this.stateDir, id);
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
