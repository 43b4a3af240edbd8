/**
 * Snapshots (the old design's Nyx), files only for now: `take` asks the sandbox's node to keep its
 * writable layer content-addressed and records it for the tenant (within `maxSnapshotBytes`);
 * a sandbox created with `{snapshot}` starts from those files on that node (`pinned`); `fork`
 * is a snapshot and that many sandboxes from it; `delete` drops the record and, when no other
 * snapshot on the node has the same files, the files.
 */
import {
  NODE_ID_LABEL,
  QuotaExceededError,
  SandboxNotRunningError,
  type Snapshot,
  type Sandbox as SandboxDto,
  type SandboxRequest,
  type WorkloadSpec,
} from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import type { SnapshotRecord } from '../store/snapshots.js';

/** Longest a node may take to write a sandbox's files, ms. */
const SNAPSHOT_TIMEOUT_MS = 600_000;

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
    memory: false,
    createdAt: new Date(s.createdAt).toISOString(),
  };
}

/** What a create from snapshot `s` changes in its request: the snapshot's template (or image) and runtime. */
export function fromSnapshot(req: SandboxRequest, s: SnapshotRecord): SandboxRequest {
  const { template: _t, image: _i, ...rest } = req;
  return { ...rest, runtime: s.runtime as SandboxRequest['runtime'], ...(s.image === null ? { template: s.template } : { image: s.image }) };
}

/** Pins a compiled spec to the snapshot's node and files. */
export function pinned(spec: WorkloadSpec, s: SnapshotRecord): WorkloadSpec {
  return { ...spec, snapshot: { digest: s.digest }, nodeSelector: { ...spec.nodeSelector, [NODE_ID_LABEL]: s.nodeId } };
}

/** See the file header. */
export class SnapshotService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
    private readonly create: (tenantId: string, req: SandboxRequest) => Promise<SandboxDto>,
  ) {}

  /** Snapshots the tenant's running (or paused) sandbox `sandboxId`. */
  async take(tenantId: string, sandboxId: string): Promise<Snapshot> {
    const { store, config } = this.ctx;
    const s = await store.sandboxes.get(tenantId, sandboxId);
    if ((s.state !== 'running' && s.state !== 'paused') || s.nodeId === null) {
      throw new SandboxNotRunningError(`sandbox ${sandboxId} is ${s.state}: only a running or paused sandbox can be snapshotted`);
    }
    const used = await store.snapshots.bytes(tenantId);
    const files = await this.hub.call(s.nodeId, 'snapshotSandbox', { sandboxId }, { timeoutMs: SNAPSHOT_TIMEOUT_MS });
    if (used + files.sizeBytes > config.maxSnapshotBytes) {
      await this.dropFilesIfUnused(s.nodeId, files.digest);
      throw new QuotaExceededError(
        `the tenant's snapshots would take ${used + files.sizeBytes} bytes, more than maxSnapshotBytes (${config.maxSnapshotBytes}): delete some (GET /v1/snapshots)`,
        0,
        { retryable: false },
      );
    }
    const rec = await store.snapshots.create({
      tenantId,
      sandboxId,
      nodeId: s.nodeId,
      template: s.spec.template,
      image: s.spec.image,
      runtime: s.runtime,
      digest: files.digest,
      sizeBytes: files.sizeBytes,
    });
    return snapshotDto(rec);
  }

  /** `count` new sandboxes from a snapshot of `sandboxId` (taken now), each independent of it and of one another. */
  async fork(tenantId: string, sandboxId: string, count: number): Promise<{ snapshot: Snapshot; sandboxes: SandboxDto[] }> {
    const snapshot = await this.take(tenantId, sandboxId);
    const source = await this.ctx.store.sandboxes.get(tenantId, sandboxId);
    const req: SandboxRequest = { snapshot: snapshot.id, limits: source.spec.limits, timeoutMs: source.spec.timeoutMs, env: source.spec.env, egress: source.spec.egress };
    const sandboxes = await Promise.all(Array.from({ length: count }, () => this.create(tenantId, req)));
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
    const { snapshot } = await this.ctx.store.snapshots.delete(tenantId, id);
    await this.dropFilesIfUnused(snapshot.nodeId, snapshot.digest);
    return snapshotDto(snapshot);
  }

  private async dropFilesIfUnused(nodeId: string, digest: string): Promise<void> {
    if (await this.ctx.store.snapshots.inUse(nodeId, digest)) return;
    await this.hub.call(nodeId, 'deleteSnapshot', { digest }).catch((err: Error) =>
      this.ctx.log.warn({ nodeId, digest, err: err.message }, 'snapshot files not removed from their node (it did not answer)'),
    );
  }
}
