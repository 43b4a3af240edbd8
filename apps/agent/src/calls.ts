/**
 * The server's calls into this agent, served by one handler per entry of core's `AGENT_CALLS`:
 * the input is validated against the call's schema first, and each handler's return type is the
 * call's output type, so the map cannot drift from the contract. Streaming calls emit typed events.
 */
import { randomUUID } from 'node:crypto';
import {
  AGENT_CALLS,
  ConflictError,
  InvalidArgumentError,
  MAX_FILE_BYTES,
  NotFoundError,
  TartarusError,
  type AgentCallEvent,
  type AgentCallName,
  type AgentCallOutput,
  type AgentCallRequest,
  type AgentProcessResult,
} from '@tartarus/core';
import type { ExecHandle, ProcessResult } from '@tartarus/runtime';
import type { z } from 'zod';
import { TextOutput } from './output.js';
import { runHealthCheck } from './health.js';
import type { AgentRuntime } from './runtime-port.js';
import type { Supervisor } from './supervisor.js';

type Input<N extends AgentCallName> = z.output<(typeof AGENT_CALLS)[N]['input']>;
type Handler<N extends AgentCallName> = (
  input: Input<N>,
  emit: (e: AgentCallEvent<N>) => void,
) => Promise<AgentCallOutput<N>>;
type Handlers = { [N in AgentCallName]: Handler<N> };

/** A process result with its output as text, for the wire. */
function wireResult(r: ProcessResult): AgentProcessResult {
  return {
    exitCode: r.exitCode,
    reason: r.reason,
    ...(r.message === undefined ? {} : { message: r.message }),
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    stdoutTruncated: r.stdoutTruncated,
    stderrTruncated: r.stderrTruncated,
    startedAtMs: r.startedAtMs,
    finishedAtMs: r.finishedAtMs,
    durationMs: r.durationMs,
  };
}

/** Serves calls against the runtime and the supervisor's sandboxes. */
export class Calls {
  private readonly execs = new Map<string, ExecHandle>();
  private readonly handlers: Handlers;

  constructor(runtime: AgentRuntime, work: Supervisor) {
    const none = {};
    this.handlers = {
      killSandbox: async ({ sandboxId, graceMs, message }) => (await work.kill(sandboxId, graceMs, message), none),
      pauseSandbox: async ({ sandboxId }) => (await work.sandbox(sandboxId).pause(), none),
      resumeSandbox: async ({ sandboxId }) => (await work.sandbox(sandboxId).resume(), none),
      setTimeout: async ({ sandboxId, timeoutAtMs }) => (
        work.setTimeout(sandboxId, timeoutAtMs),
        none
      ),
      setEgress: async ({ sandboxId, egress }) => (await runtime.setEgress(work.sandbox(sandboxId), egress), none),
      exec: (input, emit) => this.exec(work, input, emit),
      execStdin: async ({ execId, data }) => (
        await this.execHandle(execId).writeStdin(Buffer.from(data, 'base64')),
        none
      ),
      execCloseStdin: async ({ execId }) => (await this.execHandle(execId).closeStdin(), none),
      execKill: async ({ execId, signal }) => (
        await this.execs.get(execId)?.kill(signal as NodeJS.Signals),
        none
      ),
      fileRead: async ({ sandboxId, path }) => {
        const data = await work.sandbox(sandboxId).files.read(path);
        if (data.length > MAX_FILE_BYTES)
          throw new TartarusError(
            'payload_too_large',
            `${path} is larger than ${MAX_FILE_BYTES} bytes; read it in parts with exec (e.g. split or tail -c)`,
          );
        return { data: data.toString('base64') };
      },
      fileWrite: async ({ sandboxId, path, data, mode }) => {
        const options = mode === undefined ? {} : { mode };
        await work.sandbox(sandboxId).files.write(path, Buffer.from(data, 'base64'), options);
        return none;
      },
      fileList: ({ sandboxId, path }) => work.sandbox(sandboxId).files.list(path),
      fileRemove: async ({ sandboxId, path, recursive }) => (
        await work.sandbox(sandboxId).files.remove(path, { recursive }),
        none
      ),
      healthCheck: ({ sandboxId, check, timeoutMs }) => runHealthCheck(work.sandbox(sandboxId), check, timeoutMs),
      sandboxStats: async ({ sandboxIds }) => ({ sandboxes: await work.usageNow(sandboxIds) }),
      setServiceNames: async ({ group, names }) => (await runtime.setServiceNames(group, names), none),
      listTemplates: () => runtime.listTemplates(),
      buildTemplate: ({ name }, emit) =>
        runtime.buildTemplate(name, (p) => emit({ event: 'progress', data: p })),
      pullImage: ({ ref, auth }, emit) => runtime.pullImage(ref, auth, (p) => emit({ event: 'progress', data: p })),
      buildImage: ({ tag, dockerfile, context, auth }, emit) =>
        runtime.buildImage({ tag, dockerfile, context: Buffer.from(context, 'base64'), auth }, (p) => emit({ event: 'progress', data: p })),
      collectImages: ({ budgetBytes }) => runtime.collectImages(budgetBytes),
      snapshotSandbox: ({ sandboxId, snapshotId, maxBytes, memory }) => runtime.snapshot(work.sandbox(sandboxId), snapshotId, maxBytes, memory),
      hibernateSandbox: async ({ sandboxId }) => {
        const h = work.sandbox(sandboxId);
        if (!h.hibernate) throw new ConflictError(`sandbox ${sandboxId} runs on ${h.runtime}, which cannot save a sandbox's memory: only microvm sandboxes hibernate`);
        return h.hibernate();
      },
      wakeSandbox: async ({ sandboxId }) => (await work.sandbox(sandboxId).wake?.(), none),
      deleteSnapshot: async ({ snapshotId, digest }) => (await runtime.deleteSnapshot(snapshotId, digest), none),
      poolStats: async ({ take }) => ({ pools: runtime.poolStats(take) }),
      setPoolSize: async ({ key, size }) => runtime.setPoolSize(key, size),
    };
  }

  /** Serves one call; the result is the reply's `result`. */
  handle(call: AgentCallRequest, emit: (event: string, data: unknown) => void): Promise<unknown> {
    const parsed = AGENT_CALLS[call.name].input.safeParse(call.input);
    if (!parsed.success)
      return Promise.reject(
        new InvalidArgumentError(
          `bad input to ${call.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        ),
      );
    // One cast where the name is only known at run time: the map itself is typed per call.
    const handler = this.handlers[call.name] as (
      input: unknown,
      emit: (e: { event: string; data: unknown }) => void,
    ) => Promise<unknown>;
    return handler(parsed.data, (e) => emit(e.event, e.data));
  }

  private execHandle(execId: string): ExecHandle {
    const h = this.execs.get(execId);
    if (!h) throw new NotFoundError(`exec ${execId} is not running`);
    return h;
  }

  private async exec(
    work: Supervisor,
    op: Input<'exec'>,
    emit: (e: AgentCallEvent<'exec'>) => void,
  ): Promise<AgentProcessResult> {
    const sandbox = work.sandbox(op.sandboxId);
    const out = new TextOutput((stream, data, timeMs) =>
      emit({ event: 'output', data: { stream, data, timeMs } }),
    );
    const argv = op.process.argv ?? ['/bin/sh', '-c', op.process.command ?? ''];
    const stdin = op.stdin === undefined ? undefined : Buffer.from(op.stdin, 'base64');
    const handle = await sandbox.exec({
      argv,
      env: op.process.env,
      ...(op.process.cwd === undefined ? {} : { cwd: op.process.cwd }),
      ...(op.process.user === undefined ? {} : { user: op.process.user }),
      timeoutMs: op.timeoutMs,
      stdin: op.interactive || stdin !== undefined,
      onOutput: (c) => out.push(c),
    });
    const execId = randomUUID();
    this.execs.set(execId, handle);
    try {
      if (stdin !== undefined) {
        await handle.writeStdin(stdin);
        if (!op.interactive) await handle.closeStdin();
      }
      emit({ event: 'started', data: { execId } });
      const r = await handle.wait();
      out.flush();
      return wireResult(r);
    } finally {
      this.execs.delete(execId);
    }
  }
}
