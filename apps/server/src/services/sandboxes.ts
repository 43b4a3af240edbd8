/**
 * Sandbox lifecycle as the API sees it: place on a node, record, ask the agent, record the
 * outcome. The store is written before the agent is asked, so a crash in between leaves a record
 * the reconcile on the agent's next hello settles.
 */
import {
  RuntimeUnavailableError,
  SandboxNotRunningError,
  TartarusError,
  type CreateSandboxRequestSchema,
  type Sandbox as SandboxDto,
} from '@tartarus/core';
import type { z } from 'zod';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { resolveLimits, sandboxDto } from '../http/convert.js';
import { rankNodes } from '../scheduler/placement.js';
import type { Sandbox } from '../store/index.js';
import { newSandboxId } from './ids.js';

const LIVE = new Set(['requested', 'running', 'paused', 'lost']);

/** Sandbox operations. */
export class SandboxService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  private pickNode(runtime: string): string {
    const all = this.hub.list();
    if (all.length === 0)
      throw new TartarusError('unavailable', 'no agent is connected; retry once a node is up', {
        retryable: true,
      });
    if (!all.some((c) => c.runtimes.includes(runtime))) {
      const offered = [...new Set(all.flatMap((c) => c.runtimes))].join(', ') || 'none';
      throw new RuntimeUnavailableError(
        `no node offers runtime "${runtime}"; available: ${offered}`,
      );
    }
    const ranked = rankNodes(
      all.map((c) => ({
        nodeId: c.nodeId,
        runtimes: c.runtimes,
        labels: c.labels,
        slots: c.capacity.slots,
        free: c.freeSlots(),
      })),
      { runtime },
      this.ctx.config.placement,
    );
    const best = ranked[0];
    if (!best)
      throw new TartarusError(
        'unavailable',
        'every node is at capacity; retry later or kill a sandbox',
        { retryable: true },
      );
    return best.nodeId;
  }

  /** Creates a sandbox and waits until it runs (or fails with the agent's error). */
  async create(
    tenantId: string,
    req: z.output<typeof CreateSandboxRequestSchema>,
  ): Promise<SandboxDto> {
    const { store, bus } = this.ctx;
    const nodeId = this.pickNode(req.runtime);
    const limits = resolveLimits(req.limits);
    const created = await store.sandboxes.create(tenantId, {
      id: newSandboxId(),
      nodeId,
      runtime: req.runtime,
      template: req.template,
      spec: { limits, metadata: req.metadata ?? {}, env: req.env ?? {}, timeoutMs: req.timeoutMs },
      timeoutAt: null,
    });
    const conn = this.hub.get(nodeId);
    conn?.sandboxes.add(created.id);
    try {
      await this.hub.request(
        nodeId,
        {
          op: 'createSandbox',
          sandboxId: created.id,
          template: req.template,
          runtime: req.runtime,
          limits,
          env: req.env ?? {},
          timeoutMs: req.timeoutMs,
        },
        { timeoutMs: this.ctx.config.sandboxCreateTimeoutMs },
      );
    } catch (err) {
      conn?.sandboxes.delete(created.id);
      const message = err instanceof Error ? err.message : String(err);
      await store.sandboxes
        .transition(created.id, 'error', { exitCode: null, reason: 'start_failed', message })
        .catch(() => undefined);
      throw err;
    }
    await store.sandboxes.transition(created.id, 'running');
    const s = await store.sandboxes.setTimeout(tenantId, created.id, Date.now() + req.timeoutMs);
    bus.sandbox(s.id);
    return sandboxDto(s);
  }

  /** The sandbox if it is running; SandboxNotRunningError (409) saying what to do otherwise. */
  async requireRunning(tenantId: string, id: string): Promise<Sandbox> {
    const s = await this.ctx.store.sandboxes.get(tenantId, id);
    if (s.state === 'running') return s;
    const hint =
      s.state === 'paused'
        ? 'resume it first'
        : LIVE.has(s.state)
          ? 'wait until it runs'
          : 'create a new one';
    throw new SandboxNotRunningError(`sandbox ${id} is ${s.state}, not running; ${hint}`);
  }

  /** Kills a sandbox; a sandbox already ended is returned unchanged. */
  async kill(tenantId: string, id: string): Promise<SandboxDto> {
    const { store, bus } = this.ctx;
    const s = await store.sandboxes.get(tenantId, id);
    if (!LIVE.has(s.state)) return sandboxDto(s);
    if (s.nodeId !== null && this.hub.get(s.nodeId)) {
      await this.hub.request(s.nodeId, { op: 'killSandbox', sandboxId: id });
    }
    this.hub.get(s.nodeId ?? '')?.sandboxes.delete(id);
    const out = await store.sandboxes.transition(id, 'killed', {
      exitCode: null,
      reason: 'killed',
      message: 'killed by request',
    });
    bus.sandbox(id);
    bus.schedule();
    return sandboxDto(out);
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
    await this.hub.request(s.nodeId, {
      op: action === 'pause' ? 'pauseSandbox' : 'resumeSandbox',
      sandboxId: id,
    });
    return sandboxDto(await store.sandboxes.transition(id, to));
  }

  /** Sets the timeout to `timeoutMs` from now. */
  async extend(tenantId: string, id: string, timeoutMs: number): Promise<SandboxDto> {
    const s = await this.ctx.store.sandboxes.get(tenantId, id);
    if (!LIVE.has(s.state))
      throw new SandboxNotRunningError(
        `sandbox ${id} is ${s.state}; its timeout can no longer change`,
      );
    const timeoutAtMs = Date.now() + timeoutMs;
    await this.hub.request(s.nodeId, { op: 'setTimeout', sandboxId: id, timeoutAtMs });
    return sandboxDto(await this.ctx.store.sandboxes.setTimeout(tenantId, id, timeoutAtMs));
  }
}
