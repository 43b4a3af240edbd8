/**
 * Snapshots (the old design's Nyx), files only for now: `take` asks the sandbox's node to keep its
 * writable layer (under the snapshot's id, content-addressed) and records it for the tenant
 * (within the tenant's `maxSnapshotBytes`, else the server's, which also bounds what the node writes);
 * a sandbox created with `{snapshot}` starts from those files on that node (`pinned`); `fork`
 * is a snapshot and that many sandboxes from it (all or none); `delete` drops the record and
 * the node's link to the files, which go with the last.
 */
import {
  ConflictError,
  newId,
  NODE_ID_LABEL,
  QuotaExceededError,
  GoneError,
  SandboxNotRunningError,
  TartarusError,
  type Snapshot,
  type Sandbox as SandboxDto,
  type SandboxRequest,
  type WorkloadSpec,
} from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import type { Sandbox, Store } from '../store/index.js';
import type { SnapshotRecord } from '../store/snapshots.js';

/** Longest a node may take to write a sandbox's files, ms. */
export const SNAPSHOT_TIMEOUT_MS = 600_000;

/** The API's view of a snapshot record. */
export function snapshotDto(s: SnapshotRecord): Snapshot {
  return {
    id: s.id,
    sandboxId: s.sandboxId,
    template: s.template,
    runtime: s.runtime as Snapshot['runtime'],
    nodeId: s.nodeId,
    digest: s.digest,
    sizeBytes: s.sizeBytes,
    memory: s.memory,
    createdAt: new Date(s.createdAt).toISOString(),
  };
}

/** What a create from snapshot `s` changes in its request: the snapshot's template (or image) and runtime. */
export function fromSnapshot(req: SandboxRequest, s: SnapshotRecord): SandboxRequest {
  const { template: _t, image: _i, ...rest } = req;
  // A memory snapshot's sandbox has no network (its guest keeps the source's address): egress none unless asked otherwise (then 400).
  const network = s.memory && rest.egress === undefined && rest.networkPolicy === undefined ? { egress: 'none' as const } : {};
  return { ...rest, ...network, runtime: s.runtime as SandboxRequest['runtime'], ...(s.image === null ? { template: s.template } : { image: s.image }) };
}

/** 503 (retryable) while the node that keeps `s`'s files is not up; 410 once it is gone from the platform. */
export async function checkSnapshotNode(store: Store, s: SnapshotRecord): Promise<void> {
  const node = (await store.nodes.list()).find((n) => n.id === s.nodeId);
  if (!node) throw new GoneError(`snapshot ${s.id}'s node ${s.nodeId} is no longer part of the platform: its files went with it; delete the snapshot`);
  if (node.status !== 'up') {
    throw new TartarusError('unavailable', `snapshot ${s.id}'s files are on node ${s.nodeId}, which is down: retry once it is back`, { retryable: true });
  }
}

/** Pins a compiled spec to the snapshot's node and files. */
export function pinned(spec: WorkloadSpec, s: SnapshotRecord): WorkloadSpec {
  return { ...spec, snapshot: { id: s.id, digest: s.digest }, nodeSelector: { ...spec.nodeSelector, [NODE_ID_LABEL]: s.nodeId } };
}

/** See the file header. */
export class SnapshotService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
    private readonly create: (tenantId: string, req: SandboxRequest) => Promise<SandboxDto>,
    private readonly kill: (tenantId: string, id: string) => Promise<unknown>,
  ) {}

  /** Snapshots the tenant's running (or paused) sandbox `sandboxId`, within the tenant's room for snapshots. */
  take(tenantId: string, sandboxId: string, memory = false): Promise<Snapshot> {
    return takeSnapshot(this.ctx, this.hub, tenantId, sandboxId, memory);
  }

  /** `count` new sandboxes from a snapshot of `sandboxId` (taken now), each independent of it and of one another. */
  async fork(tenantId: string, sandboxId: string, count: number, memory = false): Promise<{ snapshot: Snapshot; sandboxes: SandboxDto[] }> {
    const snapshot = await this.take(tenantId, sandboxId, memory);
    const source = await this.ctx.store.sandboxes.get(tenantId, sandboxId);
    const req: SandboxRequest = { snapshot: snapshot.id, limits: source.spec.limits, timeoutMs: source.spec.timeoutMs, env: source.spec.env, egress: source.spec.egress };
    const made = await Promise.allSettled(Array.from({ length: count }, () => this.create(tenantId, req)));
    const sandboxes = made.flatMap((m) => (m.status === 'fulfilled' ? [m.value] : []));
    const failed = made.find((m): m is PromiseRejectedResult => m.status === 'rejected');
    if (failed) {
      // All or none: the copies made are killed, the snapshot stays (listed, deletable).
      await Promise.all(sandboxes.map((x) => this.kill(tenantId, x.id).catch(() => undefined)));
      throw failed.reason;
    }
    return { snapshot, sandboxes };
  }

  async list(tenantId: string): Promise<Snapshot[]> {
    return (await this.ctx.store.snapshots.list(tenantId)).map(snapshotDto);
  }

  async get(tenantId: string, id: string): Promise<Snapshot> {
    return snapshotDto(await this.ctx.store.snapshots.get(tenantId, id));
  }

  /** Deletes the tenant's snapshot `id` (its files too, unless another snapshot on the node has the same). */
  async delete(tenantId: string, id: string): Promise<Snapshot> {
    const snapshot = await this.ctx.store.snapshots.delete(tenantId, id);
    await this.dropFiles(snapshot.nodeId, snapshot.id, snapshot.digest);
    return snapshotDto(snapshot);
  }

  private dropFiles(nodeId: string, id: string, digest: string): Promise<void> {
    return dropFiles(this.ctx, this.hub, nodeId, id, digest);
  }
}

/** Runtimes whose sandboxes' memory can be saved here. */
const MEMORY_RUNTIMES: readonly string[] = ['microvm', 'gvisor'];

/** Why sandbox `s`'s memory cannot be snapshotted (its runtime, or its network), or undefined when it can. */
export function memorySnapshotRefusal(s: Pick<Sandbox, 'id' | 'runtime' | 'spec'>): string | undefined {
  if (!MEMORY_RUNTIMES.includes(s.runtime)) {
    return `sandbox ${s.id} runs on ${s.runtime}, whose memory cannot be saved here (only ${MEMORY_RUNTIMES.join(' and ')} sandboxes): take a files snapshot (memory: false)`;
  }
  if (s.spec.egress !== 'none') {
    return `sandbox ${s.id} has a network: its memory would carry its address into every copy; take a files snapshot (memory: false), or snapshot a sandbox created with egress "none"`;
  }
  return undefined;
}

/** Snapshots the tenant's running (or paused) sandbox `sandboxId`, within the tenant's room for snapshots. */
export async function takeSnapshot(ctx: ServerContext, hub: AgentHub, tenantId: string, sandboxId: string, memory = false): Promise<Snapshot> {
  const { store } = ctx;
  const s = await store.sandboxes.get(tenantId, sandboxId);
  if ((s.state !== 'running' && s.state !== 'paused') || s.nodeId === null) {
    throw new SandboxNotRunningError(`sandbox ${sandboxId} is ${s.state}: only a running or paused sandbox can be snapshotted`);
  }
  const quota = await snapshotQuota(ctx, tenantId);
  const room = quota.maxBytes - (await store.snapshots.bytes(tenantId));
  if (room <= 0) {
    throw new QuotaExceededError(`the tenant's snapshots take all of ${quota.name}: ${quota.fix}`, 0, { retryable: false, context: quota.context });
  }
  // The id first: the node keeps the files under it, so they are this snapshot's alone.
  const id = newId('snp');
  const refusal = memory ? memorySnapshotRefusal(s) : undefined;
  if (refusal) throw new ConflictError(refusal);
  const files = await hub
    .call(s.nodeId, 'snapshotSandbox', { sandboxId, snapshotId: id, maxBytes: room, memory }, { timeoutMs: SNAPSHOT_TIMEOUT_MS })
    .catch((err: unknown) => {
      // The node knows only the room it was given (its `maxBytes`): the message names the limit.
      if (!(err instanceof TartarusError) || err.code !== 'quota_exceeded') throw err;
      throw new QuotaExceededError(`a snapshot of sandbox ${sandboxId} would be more than the ${room} bytes left of ${quota.name}: ${quota.fix}`, 0, { retryable: false, cause: err, context: quota.context });
    });
  const rec = await store.snapshots
    .create({ id, tenantId, sandboxId, nodeId: s.nodeId, template: s.spec.template, image: s.spec.image, runtime: s.runtime, digest: files.digest, sizeBytes: files.sizeBytes, memory })
    .catch(async (err: unknown) => {
      await dropFiles(ctx, hub, s.nodeId ?? '', id, files.digest);
      throw err;
    });
  return snapshotDto(rec);
}

/** The limit on the tenant's snapshots: its own `maxSnapshotBytes`, else the server's; named for the messages of a snapshot refused. */
async function snapshotQuota(ctx: ServerContext, tenantId: string): Promise<{ maxBytes: number; name: string; fix: string; context: Record<string, unknown> }> {
  const own = (await ctx.store.tenants.get(tenantId)).maxSnapshotBytes;
  if (own !== null) {
    return { maxBytes: own, name: `the tenant's maxSnapshotBytes (${own} bytes)`, fix: "delete some (GET /v1/snapshots), or raise the tenant's maxSnapshotBytes (PATCH /v1/tenants/:id)", context: { limit: 'tenant', maxSnapshotBytes: own } };
  }
  const max = ctx.config.maxSnapshotBytes;
  return {
    maxBytes: max,
    name: `the server's maxSnapshotBytes (${max} bytes; the tenant sets none of its own)`,
    fix: "delete some (GET /v1/snapshots), or give the tenant its own maxSnapshotBytes (PATCH /v1/tenants/:id)",
    context: { limit: 'server', maxSnapshotBytes: max },
  };
}

/** Removes snapshot `id` from its node (its files too when no other snapshot there links them). */
async function dropFiles(ctx: ServerContext, hub: AgentHub, nodeId: string, id: string, digest: string): Promise<void> {
  await hub.call(nodeId, 'deleteSnapshot', { snapshotId: id, digest }).catch((err: Error) =>
    ctx.log.warn({ nodeId, snapshotId: id, err: err.message }, 'snapshot files not removed from their node (it did not answer)'),
  );
}
