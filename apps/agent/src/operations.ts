/**
 * The server's requests to this agent (`request` → one `reply`, plus `event`s for streaming
 * operations): sandbox lifecycle, exec, files, templates.
 */
import { randomUUID } from 'node:crypto';
import {
  assertNever,
  MAX_FILE_BYTES,
  NotFoundError,
  TartarusError,
  type AgentOperation,
  type AgentProcessResult,
} from '@tartarus/core';
import type { ExecHandle, ProcessResult, ResourceLimits } from '@tartarus/runtime';
import type { Link } from './link.js';
import { TextOutput } from './output.js';
import type { AgentRuntime } from './runtime-port.js';
import type { SandboxRegistry } from './sandboxes.js';

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

/** Executes operations against the runtime. */
export class Operations {
  private readonly execs = new Map<string, ExecHandle>();

  constructor(
    private readonly runtime: AgentRuntime,
    private readonly sandboxes: SandboxRegistry,
    private readonly link: () => Link,
  ) {}

  /** Runs one operation; the result is the reply's `result`. */
  async handle(requestId: string, op: AgentOperation): Promise<unknown> {
    switch (op.op) {
      case 'createSandbox':
        await this.sandboxes.create({
          id: op.sandboxId,
          runtime: op.runtime,
          template: op.template,
          env: op.env,
          limits: op.limits as ResourceLimits,
          timeoutMs: op.timeoutMs,
        });
        return {};
      case 'killSandbox':
        await this.sandboxes.kill(op.sandboxId);
        return {};
      case 'pauseSandbox':
        return this.sandboxes
          .get(op.sandboxId)
          .pause()
          .then(() => ({}));
      case 'resumeSandbox':
        return this.sandboxes
          .get(op.sandboxId)
          .resume()
          .then(() => ({}));
      case 'setTimeout':
        this.sandboxes.setTimeout(op.sandboxId, op.timeoutAtMs);
        return {};
      case 'exec':
        return this.exec(requestId, op);
      case 'execStdin':
        await this.execHandle(op.execId).writeStdin(Buffer.from(op.data, 'base64'));
        return {};
      case 'execCloseStdin':
        await this.execHandle(op.execId).closeStdin();
        return {};
      case 'execKill':
        await this.execs.get(op.execId)?.kill(op.signal as NodeJS.Signals);
        return {};
      case 'fileRead': {
        const data = await this.sandboxes.get(op.sandboxId).files.read(op.path);
        if (data.length > MAX_FILE_BYTES) {
          throw new TartarusError(
            'payload_too_large',
            `${op.path} is larger than ${MAX_FILE_BYTES} bytes; read it in parts with exec (e.g. split or tail -c)`,
          );
        }
        return { data: data.toString('base64') };
      }
      case 'fileWrite':
        await this.sandboxes
          .get(op.sandboxId)
          .files.write(
            op.path,
            Buffer.from(op.data, 'base64'),
            op.mode === undefined ? {} : { mode: op.mode },
          );
        return {};
      case 'fileList':
        return this.sandboxes.get(op.sandboxId).files.list(op.path);
      case 'fileRemove':
        await this.sandboxes.get(op.sandboxId).files.remove(op.path, { recursive: op.recursive });
        return {};
      case 'listTemplates':
        return this.runtime.listTemplates();
      case 'buildTemplate':
        return this.runtime.buildTemplate(op.name, (p) =>
          this.link().send({ type: 'event', requestId, event: 'progress', data: p }),
        );
      default:
        return assertNever(op, 'operation');
    }
  }

  private execHandle(execId: string): ExecHandle {
    const h = this.execs.get(execId);
    if (!h) throw new NotFoundError(`exec ${execId} is not running`);
    return h;
  }

  private async exec(
    requestId: string,
    op: Extract<AgentOperation, { op: 'exec' }>,
  ): Promise<AgentProcessResult> {
    const sandbox = this.sandboxes.get(op.sandboxId);
    const out = new TextOutput((stream, data, timeMs) =>
      this.link().send({
        type: 'event',
        requestId,
        event: 'output',
        data: { stream, data, timeMs },
      }),
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
      this.link().send({ type: 'event', requestId, event: 'started', data: { execId } });
      const r = await handle.wait();
      out.flush();
      return wireResult(r);
    } finally {
      this.execs.delete(execId);
    }
  }
}
