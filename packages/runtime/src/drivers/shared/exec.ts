/**
 * Processes started in a running sandbox (`runc exec` / `runsc exec --process`). Each exec
 * gets a full process.json (user, env, cwd, capabilities, no_new_privileges), so it is held to
 * the same rules as the main process. Output is captured like the main process's; a kill goes
 * to the exec'd process itself (by the pid its pid file gave), not to the runtime's client.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import type { ExecHandle, ExecOptions, ProcessResult, SandboxSpec } from '../../driver.js';
import { startProcess, type ProcessHandle } from '../../process/run.js';
import { OutputCapture } from '../../sandbox/capture.js';
import { resolveUser, type ResolvedUser } from '../../sandbox/user.js';
import type { OciContext, SandboxPaths } from './context.js';
import { exists, toResult, type EndedBy } from './main-process.js';
import { buildOciProcess } from './oci-spec.js';
import { signalArg } from './tool.js';

/** The sandbox an exec runs in. */
export interface ExecTarget {
  ctx: OciContext;
  spec: Omit<SandboxSpec, 'onOutput' | 'stdin'>;
  user: ResolvedUser;
  paths: SandboxPaths;
}

/** Starts `options` in the sandbox; resolves once the runtime client runs. */
export async function startExec(target: ExecTarget, options: ExecOptions, outputLimitBytes: number): Promise<ExecHandle> {
  const { ctx, spec, paths } = target;
  if (!Array.isArray(options.argv) || options.argv.length === 0) {
    throw new InvalidArgumentError('exec argv is empty: give at least the program to run');
  }
  const user = options.user === undefined ? target.user : await resolveUser(spec.template.rootfsPath, options.user);
  const env = { ...spec.process.env, ...(options.env ?? {}) };
  const cwd = options.cwd ?? spec.process.cwd;
  const tag = randomBytes(6).toString('hex');
  const processFile = join(paths.dir, `exec-${tag}.json`);
  const pidFile = join(paths.dir, `exec-${tag}.pid`);
  await writeFile(processFile, JSON.stringify(buildOciProcess({ args: options.argv, env, cwd, user })));
  const capture = new OutputCapture(outputLimitBytes, options.onOutput);
  const proc = startProcess(ctx.tool.exec(ctx.runtimeRoot, { processFile, pidFile, containerId: ctx.containerId(spec.id) }), {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    stdin: options.stdin ? 'pipe' : 'ignore',
    maxOutputBytes: outputLimitBytes + 1,
    onOutput: (stream, data) => capture.push(stream, data),
  });
  return new OciExec(target, proc, capture, { processFile, pidFile }, options);
}

class OciExec implements ExecHandle {
  private endedBy: EndedBy;
  private ended = false;
  private readonly result: Promise<ProcessResult>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: ExecTarget,
    private readonly proc: ProcessHandle,
    capture: OutputCapture,
    private readonly files: { processFile: string; pidFile: string },
    private readonly options: ExecOptions,
  ) {
    const startedAtMs = Date.now();
    proc.child.stdin?.on('error', () => {
      /* the process may exit without reading its stdin */
    });
    if (options.timeoutMs) {
      this.timer = setTimeout(() => void this.stop('timeout'), options.timeoutMs);
    }
    const onAbort = (): void => void this.stop('killed');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.result = proc.wait().then(async (res) => {
      this.ended = true;
      clearTimeout(this.timer);
      options.signal?.removeEventListener('abort', onAbort);
      const ran = await exists(files.pidFile);
      await Promise.all([rm(files.processFile, { force: true }), rm(files.pidFile, { force: true })]);
      return toResult(target.spec, res, capture, { endedBy: this.endedBy, ran, startedAtMs });
    });
  }

  async writeStdin(data: Buffer | string): Promise<void> {
    const stdin = this.proc.child.stdin;
    if (!this.options.stdin || !stdin) throw new InvalidArgumentError('this exec was started without stdin: pass stdin: true');
    if (this.ended || stdin.writableEnded) return;
    await new Promise<void>((resolve) => stdin.write(data, () => resolve()));
  }

  async closeStdin(): Promise<void> {
    this.proc.child.stdin?.end();
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.endedBy ??= 'killed';
    await this.signal(signal);
  }

  wait(): Promise<ProcessResult> {
    return this.result;
  }

  // TERM first, KILL after the sandbox's grace period.
  private async stop(by: 'killed' | 'timeout'): Promise<void> {
    if (this.ended) return;
    this.endedBy ??= by;
    await this.signal('SIGTERM');
    const grace = new Promise<void>((r) => setTimeout(r, this.target.spec.killGraceMs).unref());
    await Promise.race([this.result, grace]);
    if (!this.ended) await this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.ended) return;
    const pid = Number((await readFile(this.files.pidFile, 'utf8').catch(() => '')).trim());
    if (!pid) {
      // Not running yet: the runtime client forwards catchable signals; KILL stops the client.
      this.proc.kill(signal);
      return;
    }
    const { ctx, spec } = this.target;
    const argv = ctx.tool.killProcess(ctx.runtimeRoot, ctx.containerId(spec.id), pid, signalArg(signal));
    if (argv) {
      await ctx.call(argv, { allowNonZero: true });
      return;
    }
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}
