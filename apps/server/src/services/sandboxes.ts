/**
 * Sandbox lifecycle as the API sees it. A create is compiled once, admitted, stored as pending
 * work and placed by the scheduler like any run; the call waits until the sandbox runs — up to
 * `waitMs` for capacity (then it is withdrawn and the caller gets 503 with Retry-After), and up to
 * `sandboxCreateTimeoutMs` for the node to start it (a first template build can take minutes).
 */
import {
  CapacityUnavailableError,
  InvalidArgumentError,
  checkEgressWithin,
  compileSandbox,
  isErrorCode,
  isLiveSandbox,
  SandboxNotRunningError,
  TartarusError,
  WORKLOAD_DEFAULTS,
  type Egress,
  type Sandbox as SandboxDto,
  type SandboxRequest,
  type WorkloadSpec,
} from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { sandboxDto } from '../http/convert.js';
import type { Admission } from '../scheduler/admission.js';
import type { TemplateService } from './templates.js';
import { networkContext } from './network.js';
import { endSandbox } from './termination.js';
import { checkSnapshotNode, fromSnapshot, pinned } from './snapshots.js';
import type { SnapshotRecord } from '../store/snapshots.js';
import type { Sandbox } from '../store/index.js';

/** The spec pinned to `snapshot`'s node and files, or as it is without one. */
function pinnedTo(snapshot: SnapshotRecord | undefined, spec: WorkloadSpec): WorkloadSpec {
  return snapshot ? pinned(spec, snapshot) : spec;
}

/** Retry-After of a create that found no capacity in its wait, ms. */
const FULL_RETRY_AFTER_MS = 5000;

/** Sandbox operations. */
export class SandboxService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
    private readonly admission: Admission,
    private readonly templates: TemplateService,
  ) {}

  /** Creates a sandbox and waits until it runs (or fails with the agent's error). */
  async create(tenantId: string, req: SandboxRequest): Promise<SandboxDto> {
    const { store, bus } = this.ctx;
    const tenant = await store.tenants.get(tenantId);
    const network = await networkContext(store, tenant, req.networkPolicy);
    // From a snapshot: its template and runtime, on the node that keeps its files.
    const snapshot = req.snapshot === undefined ? undefined : await store.snapshots.get(tenantId, req.snapshot);
    if (snapshot) await checkSnapshotNode(store, snapshot);
    const compiled = compileSandbox(snapshot ? fromSnapshot(req, snapshot) : req, tenant.maxLimits, network);
    if (snapshot?.memory && compiled.egress !== 'none') {
      throw new InvalidArgumentError(`snapshot ${snapshot.id} keeps memory: a sandbox made from it has no network (its guest keeps the address it had); give egress "none" or leave egress out`, { context: { field: 'egress' } });
    }
    if (snapshot && snapshot.sizeBytes > compiled.limits.diskMiB * 1024 * 1024) {
      throw new InvalidArgumentError(`snapshot ${snapshot.id} holds ${snapshot.sizeBytes} bytes of files, more than limits.diskMiB (${compiled.limits.diskMiB} MiB): ask for more disk`);
    }
    // A group is the tenant's own: two tenants' groups of one name are never one group.
    if (compiled.networkGroup !== null) compiled.networkGroup = `${tenantId}/${compiled.networkGroup}`;
    const spec = pinnedTo(snapshot, await this.templates.pin(tenantId, compiled));
    await this.admission.check(spec);
    const created = await store.sandboxes.create(tenantId, {
      runtime: spec.runtime,
      template: spec.template,
      spec,
    });
    let failure: TartarusError | undefined;
    const onFail = (code: string, message: string) => {
      failure = new TartarusError(isErrorCode(code) ? code : 'unavailable', message);
    };
    bus.once(`sandboxFailed:${created.id}`, onFail);
    try {
      bus.schedule();
      const s = await this.awaitStart(created, req.waitMs ?? WORKLOAD_DEFAULTS.sandboxWaitMs);
      if (s.state === 'running' || s.state === 'paused') return sandboxDto(s);
      throw (
        failure ??
        new TartarusError(
          'unavailable',
          `sandbox ${s.id} did not start: ${s.exit?.message ?? s.state}`,
          { retryable: true },
        )
      );
    } finally {
      bus.off(`sandboxFailed:${created.id}`, onFail);
    }
  }

  /** Waits for a placed sandbox to leave `requested`; withdraws it if it found no node in `waitMs`. */
  private async awaitStart(created: Sandbox, waitMs: number): Promise<Sandbox> {
    const { store, bus, config } = this.ctx;
    const placeBy = Date.now() + waitMs;
    const startBy = Date.now() + config.sandboxCreateTimeoutMs;
    for (;;) {
      // Listening before the read: a change reported while it is in flight is not missed.
      const next = bus.watch(`sandbox:${created.id}`, 1000);
      const s = await store.sandboxes.get(created.tenantId, created.id);
      if (s.state !== 'requested') {
        next.cancel();
        return s;
      }
      const now = Date.now();
      if (s.nodeId === null && now >= placeBy) {
        next.cancel();
        if (await store.sandboxes.withdraw(s.id, this.unplaced(waitMs))) throw this.full(waitMs);
        continue;
      }
      if (now >= startBy) {
        next.cancel();
        await this.kill(created.tenantId, s.id).catch(() => undefined);
        throw new TartarusError('timeout', `sandbox ${s.id} did not start within ${config.sandboxCreateTimeoutMs} ms`, { retryable: true });
      }
      const until = s.nodeId === null ? placeBy : startBy;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([next.changed, new Promise((r) => (timer = setTimeout(r, Math.min(until - now, 1000))))]);
      clearTimeout(timer);
      next.cancel();
    }
  }

  private unplaced(waitMs: number) {
    return {
      exitCode: null,
      reason: 'unplaced',
      message: `no node had room for it within ${waitMs} ms`,
    };
  }

  private full(waitMs: number): TartarusError {
    return new CapacityUnavailableError(
      `every node is at capacity and none freed up within ${waitMs} ms: retry later, kill a sandbox, or wait longer with waitMs`,
      FULL_RETRY_AFTER_MS,
    );
  }

  /** The sandbox if it is running; SandboxNotRunningError (409) saying what to do otherwise. */
  async requireRunning(tenantId: string, id: string): Promise<Sandbox> {
    const s = await this.ctx.store.sandboxes.get(tenantId, id);
    if (s.state === 'running') return s;
    const hint =
      s.state === 'paused'
        ? 'resume it first'
        : isLiveSandbox(s.state) || s.state === 'lost'
          ? 'wait until it runs'
          : 'create a new one';
    throw new SandboxNotRunningError(`sandbox ${id} is ${s.state}, not running; ${hint}`);
  }

  /** Kills a sandbox; a sandbox already ended is returned unchanged. */
  async kill(tenantId: string, id: string): Promise<SandboxDto> {
    const s = await this.ctx.store.sandboxes.get(tenantId, id);
    if (!isLiveSandbox(s.state) && s.state !== 'lost') return sandboxDto(s);
    // Its node may be connected here or to another replica (termination.ts).
    return sandboxDto(await endSandbox(this.ctx, this.hub, s, { message: 'killed by request' }));
  }

  /** Pauses (`pause`) or resumes (`resume`) a sandbox. */
  async suspend(tenantId: string, id: string, action: 'pause' | 'resume'): Promise<SandboxDto> {
    const { store } = this.ctx;
    const s = await store.sandboxes.get(tenantId, id);
    const from = action === 'pause' ? 'running' : 'paused';
    const to = action === 'pause' ? 'paused' : 'running';
    if (s.state === to) return sandboxDto(s);
    if (s.state !== from)
      throw new SandboxNotRunningError(
        `sandbox ${id} is ${s.state}; only a ${from} sandbox can be ${action}d`,
      );
    await this.hub.call(s.nodeId, action === 'pause' ? 'pauseSandbox' : 'resumeSandbox', {
      sandboxId: id,
    });
    return sandboxDto(await store.sandboxes.transition(id, to));
  }

  /**
   * Hibernates a running sandbox (its node saves its memory and frees it; microvm only: 409 for
   * another runtime or while a command runs) or wakes a hibernated one. Either is a no-op when done.
   */
  async hibernation(tenantId: string, id: string, action: 'hibernate' | 'wake'): Promise<SandboxDto> {
    const { store } = this.ctx;
    const s = await store.sandboxes.get(tenantId, id);
    if (s.state !== 'running' || s.nodeId === null) {
      throw new SandboxNotRunningError(`sandbox ${id} is ${s.state}; only a running sandbox can ${action === 'hibernate' ? 'hibernate' : 'be woken'}`);
    }
    if (action === 'hibernate') {
      await this.hub.call(s.nodeId, 'hibernateSandbox', { sandboxId: id });
      await store.sandboxes.setHibernated(s.nodeId, id, Date.now());
    } else {
      await this.hub.call(s.nodeId, 'wakeSandbox', { sandboxId: id });
      await store.sandboxes.setHibernated(s.nodeId, id, null);
    }
    return sandboxDto(await store.sandboxes.get(tenantId, id));
  }

  /**
   * Replaces a running (or paused) sandbox's egress: checked against the tenant's `maxEgress`,
   * applied by its node (409 there for a sandbox created with `none`: it has no interface), then
   * recorded in its spec.
   */
  async setEgress(tenantId: string, id: string, egress: Egress): Promise<SandboxDto> {
    const { store } = this.ctx;
    const s = await store.sandboxes.get(tenantId, id);
    if (s.state !== 'running' && s.state !== 'paused') {
      const hint = isLiveSandbox(s.state) || s.state === 'lost' ? 'wait until it runs' : 'create a new one';
      throw new SandboxNotRunningError(`sandbox ${id} is ${s.state}: only a running or paused sandbox's egress can change; ${hint}`);
    }
    checkEgressWithin(egress, (await store.tenants.get(tenantId)).maxEgress);
    await this.hub.call(s.nodeId, 'setEgress', { sandboxId: id, egress });
    return sandboxDto(await store.sandboxes.setEgress(tenantId, id, egress));
  }

  /** Sets the timeout to `timeoutMs` from now. */
  async extend(tenantId: string, id: string, timeoutMs: number): Promise<SandboxDto> {
    const s = await this.ctx.store.sandboxes.get(tenantId, id);
    if (!isLiveSandbox(s.state) && s.state !== 'lost')
      throw new SandboxNotRunningError(
        `sandbox ${id} is ${s.state}; its timeout can no longer change`,
      );
    const timeoutAtMs = Date.now() + timeoutMs;
    await this.hub.call(s.nodeId, 'setTimeout', { sandboxId: id, timeoutAtMs });
    return sandboxDto(await this.ctx.store.sandboxes.setTimeout(tenantId, id, timeoutAtMs));
  }
}
