/** Adapts `@tartarus/runtime`'s `Runtime` facade to the agent's port. */
import type {
  PoolConfig,
  Runtime,
  RuntimeName,
  SandboxHandle,
  SandboxInfo,
  TemplateInfo,
  ImageInfo,
  PoolStats,
} from '@tartarus/runtime';
import { ConflictError, InvalidArgumentError, NotFoundError, type AgentPoolStats, type Egress, type ImageReport } from '@tartarus/core';
import { readEgressBytes } from '@tartarus/runtime';
import type { AgentRuntime, BuildProgress, RegistryAuth, StartOptions, TemplateReport } from './runtime-port.js';

type SandboxOptions = Parameters<Runtime['createSandbox']>[0];

function report(
  name: string,
  description: string,
  info: TemplateInfo | undefined,
): TemplateReport {
  return {
    name,
    description,
    built: info !== undefined,
    ...(info ? { sizeBytes: info.sizeBytes, digest: info.digest, builtAtMs: info.builtAtMs } : {}),
  };
}

/** The agent's runtime port over a `Runtime`. */
export class RuntimeAdapter implements AgentRuntime {
  constructor(private readonly runtime: Runtime) {}

  async availableRuntimes(): Promise<string[]> {
    const avail = await this.runtime.available();
    return Object.entries(avail)
      .filter(([, a]) => a.ok)
      .map(([n]) => n);
  }

  async createAndStart(o: StartOptions, signal?: AbortSignal): Promise<SandboxHandle> {
    // The compiled spec, field by field: null means "the template's", which is what the
    // runtime does for an option left out. No default is chosen here.
    const { spec } = o;
    const options: SandboxOptions = {
      id: o.sandboxId,
      runtime: spec.runtime satisfies RuntimeName,
      template: spec.template,
      ...(spec.image ? { image: spec.image } : {}),
      // A tenant's template (named, pinned by digest, checked by the server) may use the cache;
      // an image named in the request is checked at its registry with this tenant's credentials.
      imagePull: spec.image && spec.template !== spec.image ? 'if-not-present' : 'always',
      ...(o.registryAuth ? { registryAuth: o.registryAuth } : {}),
      ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
      // A run without a command runs its image's ENTRYPOINT + CMD; a sandbox idles.
      whenNoCommand: spec.lifecycle === 'once' ? 'image' : 'idle',
      ...(spec.command === null ? {} : { command: spec.command }),
      env: spec.env,
      ...(spec.cwd === null ? {} : { cwd: spec.cwd }),
      ...(spec.user === null ? {} : { user: spec.user }),
      ...(spec.stdin === null ? {} : { stdin: Buffer.from(spec.stdin, 'utf8') }),
      limits: spec.limits,
      egress: spec.egress,
      ...(spec.networkGroup === null ? {} : { networkGroup: spec.networkGroup }),
      timeoutMs: spec.lifecycle === 'once' ? spec.timeoutMs : 0,
      ...(o.onOutput === undefined ? {} : { onOutput: o.onOutput }),
      ...(o.onTemplateReady === undefined ? {} : { onTemplateReady: o.onTemplateReady }),
      // A snapshot's files, kept on this node (the work was placed here for them).
      ...(spec.snapshot === null ? {} : { seed: await this.runtime.snapshots.path(spec.snapshot.id) }),
      ...(spec.hibernateAfterMs === null ? {} : { hibernateAfterMs: spec.hibernateAfterMs }),
    };
    const handle = await this.runtime.createSandbox(options, signal);
    try {
      await handle.start(signal);
    } catch (err) {
      await handle.destroy().catch(() => undefined);
      throw err;
    }
    return handle;
  }

  async setEgress(handle: SandboxHandle, egress: Egress): Promise<void> {
    if (!handle.setEgress) throw new ConflictError(`sandbox ${handle.id} has no network (runtime ${handle.runtime}): its egress cannot change`);
    await handle.setEgress(egress);
  }

  list(): Promise<SandboxInfo[]> {
    return this.runtime.list();
  }

  adopt(info: SandboxInfo): Promise<SandboxHandle> {
    return this.runtime.adopt(info.runtime, info.id);
  }

  egressBytes(sandboxId: string): Promise<number> {
    return readEgressBytes(sandboxId);
  }

  async destroy(info: SandboxInfo): Promise<void> {
    await this.runtime.destroy(info.runtime, info.id);
  }

  checkPools(pools: PoolConfig[]): void {
    this.runtime.checkPools(pools);
  }

  startPools(pools: PoolConfig[]): Promise<void> {
    return this.runtime.startPools(pools);
  }

  snapshot(handle: SandboxHandle, snapshotId: string, maxBytes: number, memory: boolean): Promise<{ digest: string; sizeBytes: number }> {
    return this.runtime.snapshots.take(handle, handle.runtime, snapshotId, maxBytes, memory);
  }

  deleteSnapshot(snapshotId: string, digest: string): Promise<void> {
    return this.runtime.snapshots.remove(snapshotId, digest);
  }

  poolStats(take: boolean): AgentPoolStats[] {
    return this.runtime.pools.stats({ take }).map(poolReport);
  }

  setPoolSize(key: string, size: number): AgentPoolStats {
    const pool = this.runtime.pools.stats().find((p) => p.key === key);
    if (!pool) throw new NotFoundError(`no warm pool ${key} on this node`);
    const a = pool.config.autoscale;
    if (!a) throw new ConflictError(`warm pool ${key} has a fixed size: give it autoscale {min, max} in the agent's pools to size it`);
    if (size < a.min || size > a.max) throw new InvalidArgumentError(`warm pool ${key} is sized between ${a.min} and ${a.max}, not ${size}`);
    return poolReport(this.runtime.pools.resize(key, size) ?? pool);
  }

  release(): Promise<void> {
    return this.runtime.close();
  }

  async listTemplates(): Promise<TemplateReport[]> {
    return (await this.runtime.templates.list()).map((t) => report(t.name, t.description, t.info));
  }

  async buildTemplate(
    name: string,
    onProgress: (p: BuildProgress) => void,
  ): Promise<TemplateReport> {
    const info = await this.runtime.templates.ensure(name, { onProgress });
    const listed = (await this.runtime.templates.list()).find((t) => t.name === name);
    return report(name, listed?.description ?? '', info);
  }

  async pullImage(ref: string, auth: RegistryAuth | undefined, onProgress: (p: BuildProgress) => void): Promise<ImageReport> {
    return imageReport(await this.runtime.images.pull(ref, { auth, onProgress }));
  }

  async buildImage(
    o: { tag: string; dockerfile: string; context: Buffer; auth?: Record<string, RegistryAuth> | undefined },
    onProgress: (p: BuildProgress) => void,
  ): Promise<ImageReport> {
    return imageReport(await this.runtime.images.build({ ...o, onProgress }));
  }

  collectImages(budgetBytes: number): Promise<{ removed: string[]; freedBytes: number; keptBytes: number }> {
    return this.runtime.collectImages(budgetBytes);
  }

  setServiceNames(group: string, names: Record<string, string[]>): Promise<void> {
    return this.runtime.setServiceNames(group, names);
  }
}

/** A pool as the agent protocol reports it. */
function poolReport(p: PoolStats): AgentPoolStats {
  const { config } = p;
  return {
    key: p.key,
    template: p.template,
    runtime: p.runtime,
    network: config.network === true,
    ...(config.egress === undefined ? {} : { egress: config.egress }),
    size: p.size,
    idle: p.idle,
    booting: p.booting,
    ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
    ...(config.autoscale === undefined ? {} : { autoscale: config.autoscale }),
    demand: p.demand,
    hits: p.hits,
  };
}

function imageReport(i: ImageInfo): ImageReport {
  const { entrypoint, cmd, env, workdir, user, exposedPorts } = i.record.config;
  return {
    ref: i.ref,
    digest: i.record.digest,
    sizeBytes: i.record.sizeBytes,
    config: { entrypoint, cmd, env, workdir, user, exposedPorts },
    pulledAtMs: i.record.pulledAtMs,
  };
}
