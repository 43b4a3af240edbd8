/**
 * The main process of a sandbox: `tt-layer run … -- runc run …` in the foreground. runc (and
 * runsc) hand their stdio pipes straight to the container process, so Node reads the
 * workload's output without any relay. This file starts it, waits until the container runs
 * (the runtime writes its pid file, seen through inotify, no polling), and turns its end into
 * a `ProcessResult`.
 */
import { watch, type FSWatcher } from 'node:fs';
import { access } from 'node:fs/promises';
import { constants } from 'node:os';
import type { ExitReason, ProcessResult, SandboxSpec } from '../../driver.js';
import { startProcess, type ProcessExit, type ProcessHandle } from '../../process/run.js';
import { OutputCapture } from '../../sandbox/capture.js';
import { LAYER_HELPER } from '../../sandbox/native.js';
import { memoryLimitReached, ownCgroupDirs } from '../../cgroups/v1.js';
import type { OciContext, SandboxPaths } from './context.js';

/** Who ended the process, when Tartarus did. */
export type EndedBy = 'killed' | 'timeout' | undefined;

/** Starts the main process; `capture` receives its output. */
export function spawnMain(ctx: OciContext, spec: SandboxSpec, paths: SandboxPaths, capture: OutputCapture): ProcessHandle {
  const cgroups = ctx.tool.ownCgroups ? ownCgroupDirs(spec.id).flatMap((d) => ['--cgroup', d]) : [];
  const argv = [
    LAYER_HELPER, 'run', paths.dir, spec.template.rootfsPath, String(spec.limits.diskMiB), ...cgroups, '--',
    ...ctx.tool.run(ctx.runtimeRoot, { bundle: paths.dir, pidFile: paths.pidFile, containerId: ctx.containerId(spec.id) }),
  ];
  const proc = startProcess(argv, {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    stdin: spec.stdin ? 'pipe' : 'ignore',
    // One byte past the cap lets the capture see the overflow (and mark it) as it happens.
    maxOutputBytes: spec.outputLimitBytes + 1,
    onOutput: (stream, data) => capture.push(stream, data),
  });
  if (spec.stdin && proc.child.stdin) {
    proc.child.stdin.on('error', () => {
      /* the workload may exit without reading its stdin */
    });
    proc.child.stdin.end(spec.stdin);
  }
  return proc;
}

/** Resolves true once the runtime wrote the pid file, false if the process ended first. */
export async function waitRunning(paths: SandboxPaths, proc: ProcessHandle): Promise<boolean> {
  let watcher: FSWatcher;
  try {
    watcher = watch(paths.dir);
  } catch {
    return pollRunning(paths, proc); // out of inotify instances: fall back to polling
  }
  try {
    const written = new Promise<boolean>((resolve) => {
      watcher.on('change', (_event, name) => {
        if (name === 'pid') resolve(true);
      });
      watcher.on('error', () => resolve(pollRunning(paths, proc)));
    });
    if (await exists(paths.pidFile)) return true;
    return await Promise.race([written, proc.wait().then(() => exists(paths.pidFile))]);
  } finally {
    watcher.close();
  }
}

async function pollRunning(paths: SandboxPaths, proc: ProcessHandle): Promise<boolean> {
  let ended = false;
  void proc.wait().then(() => (ended = true));
  for (;;) {
    if (await exists(paths.pidFile)) return true;
    if (ended) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Turns the end of a main process (or exec) into a `ProcessResult`. */
export async function toResult(
  spec: Pick<SandboxSpec, 'id' | 'limits'>,
  res: ProcessExit,
  capture: OutputCapture,
  o: { endedBy: EndedBy; ran: boolean; startedAtMs: number },
): Promise<ProcessResult> {
  const finishedAtMs = Date.now();
  const signalled = res.signal ? 128 + signalNumber(res.signal) : null;
  const exitCode = res.spawnError ? null : (res.exitCode ?? signalled);
  let reason: ExitReason = 'exited';
  let message: string | undefined;
  const out = capture.result();
  if (res.spawnError) {
    reason = 'error';
    message = `could not start the runtime: ${res.spawnError.message}`;
  } else if (o.endedBy) {
    reason = o.endedBy;
  } else if (!o.ran && exitCode !== 0) {
    reason = 'error';
    message = lastLines(out.stderr) || `the runtime failed with exit code ${exitCode}`;
  } else if (exitCode === 137 && (await memoryLimitReached(spec.id, spec.limits.memoryMiB))) {
    reason = 'oom';
    message = 'killed by the out-of-memory killer: the sandbox reached its memory limit';
  }
  return {
    exitCode: reason === 'error' && !o.ran ? null : exitCode,
    reason,
    ...(message ? { message } : {}),
    ...out,
    startedAtMs: o.startedAtMs,
    finishedAtMs,
    durationMs: finishedAtMs - o.startedAtMs,
  };
}

function lastLines(buf: Buffer): string {
  return buf.toString('utf8').trim().split('\n').slice(-3).join('\n');
}

function signalNumber(sig: NodeJS.Signals): number {
  return constants.signals[sig] ?? 0;
}

/** True when `path` exists. */
export function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
