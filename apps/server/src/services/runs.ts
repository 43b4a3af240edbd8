/**
 * Runs as the API sees them: submit (idempotent, quota-checked by the store), wait until final,
 * cancel (telling the agent holding the lease), and the output of a finished run.
 */
import {
  InvalidArgumentError,
  type Run as RunDto,
  type SubmitRunRequestSchema,
} from '@tartarus/core';
import type { z } from 'zod';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { resolveLimits, runDto } from '../http/convert.js';
import type { Run, RunSpec } from '../store/index.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'dead']);

/** Whether a run state is final. */
export function isFinal(state: string): boolean {
  return FINAL.has(state);
}

/** Resolves the spec stored with a run from the request (the shell form runs under `/bin/sh -c`). */
function runSpecOf(req: z.output<typeof SubmitRunRequestSchema>): RunSpec {
  return {
    command: req.argv ?? ['/bin/sh', '-c', req.command ?? ''],
    ...(req.command === undefined ? {} : { shell: req.command }),
    template: req.template,
    runtime: req.runtime,
    env: req.env ?? {},
    ...(req.cwd === undefined ? {} : { cwd: req.cwd }),
    limits: resolveLimits(req.limits),
    timeoutMs: req.timeoutMs,
    ...(req.stdin === undefined ? {} : { stdin: req.stdin }),
  };
}

/** Run operations. */
export class RunService {
  private known: { names: Set<string>; atMs: number } | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  /** Queues a run; `created` false on an idempotent replay. */
  async submit(
    tenantId: string,
    req: z.output<typeof SubmitRunRequestSchema>,
    idempotencyKey: string | undefined,
  ): Promise<{ run: Run; created: boolean }> {
    await this.checkTemplate(req.template);
    const out = await this.ctx.store.runs.submit(tenantId, runSpecOf(req), {
      maxAttempts: req.maxAttempts,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    this.ctx.bus.schedule();
    return out;
  }

  /**
   * Rejects a template no node knows, so a typo is a 400 now rather than a dead run later. With no
   * agent connected the run is accepted as is (it waits queued; the agent reports a bad name).
   */
  private async checkTemplate(name: string): Promise<void> {
    if (!this.hub.hasAgents()) return;
    if (this.known === undefined || Date.now() - this.known.atMs > 30_000) {
      const items = (await this.hub
        .any()
        .request({ op: 'listTemplates' }, { timeoutMs: 5000 })
        .catch(() => undefined)) as { name: string }[] | undefined;
      if (items === undefined) return;
      this.known = { names: new Set(items.map((t) => t.name)), atMs: Date.now() };
    }
    if (!this.known.names.has(name)) {
      throw new InvalidArgumentError(
        `unknown template "${name}": use one of ${[...this.known.names].join(', ')}`,
      );
    }
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
      const run = first ?? (await store.runs.get(tenantId, runId));
      first = undefined;
      const left = deadline - Date.now();
      if (isFinal(run.state) || left <= 0 || signal?.aborted) return run;
      // Woken by the bus; the 1 s cap also covers changes made by another replica.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          bus.off(`run:${runId}`, done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, Math.min(left, 1000));
        bus.on(`run:${runId}`, done);
        signal?.addEventListener('abort', done);
      });
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
    if (before.leaseNodeId !== null && !isFinal(before.state)) {
      const conn = this.hub.get(before.leaseNodeId);
      conn?.send({ type: 'cancelRun', runId, epoch: before.epoch });
      conn?.activeRuns.delete(runId);
    }
    this.ctx.bus.run(runId);
    this.ctx.bus.schedule();
    return after;
  }
}
