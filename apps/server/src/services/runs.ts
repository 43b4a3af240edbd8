/**
 * Runs as the API sees them: submit (compiled once, admitted, idempotent, quota-checked by the
 * store), wait until final, cancel (telling the agent holding the lease), and the output of a
 * finished run.
 */
import { compileRun, isFinalRun, type Run as RunDto, type RunRequest } from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { runDto } from '../http/convert.js';
import type { Admission } from '../scheduler/admission.js';
import type { TemplateService } from './templates.js';
import { networkContext } from './network.js';
import type { Run } from '../store/index.js';

/** Run operations. */
export class RunService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
    private readonly admission: Admission,
    private readonly templates: TemplateService,
  ) {}

  /**
   * Queues a run; `created` false on an idempotent replay. `networkGroup`: the group its sandbox
   * joins (a deployment's, deployments/names.ts; not in the API), qualified here by the tenant as a
   * sandbox's group is; ignored when the run gets no network.
   */
  async submit(
    tenantId: string,
    req: RunRequest,
    idempotencyKey: string | undefined,
    options: { networkGroup?: string } = {},
  ): Promise<{ run: Run; created: boolean }> {
    const tenant = await this.ctx.store.tenants.get(tenantId);
    const network = await networkContext(this.ctx.store, tenant, req.networkPolicy);
    const compiled = compileRun(req, tenant.maxLimits, network);
    if (options.networkGroup !== undefined && compiled.egress !== 'none') compiled.networkGroup = `${tenantId}/${options.networkGroup}`;
    const spec = await this.templates.pin(tenantId, compiled);
    await this.admission.check(spec);
    const out = await this.ctx.store.runs.submit(tenantId, spec, {
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    this.ctx.bus.schedule();
    return out;
  }

  /**
   * Resolves with the run once final, or its current state when `waitMs` elapses or `signal`
   * aborts. `known`: the run as its caller just read or wrote it, which spares the first read.
   */
  async waitFinal(
    tenantId: string,
    runId: string,
    waitMs: number,
    signal?: AbortSignal,
    known?: Run,
  ): Promise<Run> {
    const { store, bus } = this.ctx;
    const deadline = Date.now() + waitMs;
    let first = known;
    for (;;) {
      // Woken by the bus; the 1 s cap also covers changes made by another replica.
      const next = bus.watch(`run:${runId}`, Math.max(0, Math.min(deadline - Date.now(), 1000)), signal);
      const run = first ?? (await store.runs.get(tenantId, runId));
      first = undefined;
      const left = deadline - Date.now();
      if (isFinalRun(run.state) || left <= 0 || signal?.aborted) {
        next.cancel();
        return run;
      }
      await next.changed;
    }
  }

  /** The run with its stdout/stderr as text (capped by the store's per-run log cap). */
  async withOutput(tenantId: string, run: Run): Promise<RunDto> {
    let stdout = '';
    let stderr = '';
    let since = 0;
    for (;;) {
      const chunks = await this.ctx.store.runs.readLogs(tenantId, run.id, {
        sinceSeq: since,
        limit: 5000,
      });
      for (const c of chunks) {
        since = c.seq;
        // Only the attempt that produced the result: an earlier, lost attempt's output is not it.
        if (c.attempt !== run.attempts) continue;
        if (c.stream === 'stdout') stdout += c.data;
        else stderr += c.data;
      }
      if (chunks.length < 5000) break;
    }
    return { ...runDto(run), stdout, stderr };
  }

  /** Cancels a run; the agent holding its lease is told to stop. */
  async cancel(tenantId: string, runId: string): Promise<Run> {
    const before = await this.ctx.store.runs.get(tenantId, runId);
    const after = await this.ctx.store.runs.cancel(tenantId, runId);
    if (before.leaseNodeId !== null && !isFinalRun(before.state)) {
      await this.hub.send(before.leaseNodeId, { type: 'stop', workId: runId, epoch: before.epoch }, runId);
    }
    this.ctx.bus.run(runId);
    this.ctx.bus.schedule();
    return after;
  }
}
