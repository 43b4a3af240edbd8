/**
 * The runtime process of a sandbox: `tt-layer run … -- runc run …` in the foreground, whose
 * container process (PID 1) is `tt-init`, the in-sandbox agent. Its stdin and stdout are the
 * agent channel (frames both ways; runc and runsc hand the pipes straight to the container);
 * its stderr carries the runtime's and the init's diagnostics. After a restart of the host
 * process the channel is gone, and `attachChannel` reaches the init again through
 * `tt-init attach` run with `runc exec`. This file also waits until the container runs (the
 * runtime writes its pid file, seen through inotify, no polling).
 */
import { watch, type FSWatcher } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConflictError } from '@tartarus/core';
import type { SandboxSpec } from '../../driver.js';
import { startProcess, type ProcessHandle } from '../../process/run.js';
import { AgentClient } from '../../sandbox/agent/client.js';
import { encodeFrame, Msg } from '../../sandbox/agent/protocol.js';
import { SANDBOX_INIT, SANDBOX_SECCOMP, userNsRootPath } from '../../sandbox/native.js';
import { ownCgroupDirs } from '../../cgroups/v1.js';
import type { ResolvedUser } from '../../sandbox/user.js';
import { netnsDir } from '../../network/sandbox.js';
import type { OciContext, SandboxPaths } from './context.js';
import { buildOciProcess } from './oci-spec.js';

/** Diagnostics kept from the runtime's stderr, bytes. */
const STDERR_CAP = 64 * 1024;
const HOST_PATH = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };

/** The init's command line: it runs file requests as the sandbox's user. */
export function initArgs(user: ResolvedUser): string[] {
  return [SANDBOX_INIT, '--files-user', `${user.uid}:${user.gid}`, '--seccomp', SANDBOX_SECCOMP];
}

/** A runtime process and the agent connection over its stdio. */
export interface Channel {
  proc: ProcessHandle;
  agent: AgentClient;
}

function channelOver(proc: ProcessHandle, agentSecret: string): Channel {
  const { stdin, stdout } = proc.child;
  if (!stdin || !stdout) throw new Error('the runtime process has no stdio pipes');
  const agent = AgentClient.over(
    {
      readable: stdout,
      writable: stdin,
      destroy: () => {
        stdin.destroy();
        stdout.destroy();
      },
    },
    'the sandbox',
    // First frame: on the inherited pipes it gives the init the secret, on an attach it proves it.
    encodeFrame(Msg.auth, 0, Buffer.from(agentSecret, 'base64')),
  );
  return { proc, agent };
}

/** A checkpoint to start from instead of booting (gVisor, drivers/gvisor/checkpoint.ts). */
export interface RestoreFrom {
  /** The directory of the checkpoint's image (in the state dir; tt-layer binds it where runsc finds it). */
  image: string;
  /** The tar of the whole writable layer of that moment (`tt-layer run --seed-layer`). */
  layer: string;
}

/** Starts the sandbox's runtime process (tt-init as PID 1, or the one a checkpoint holds) and opens the agent channel. */
export function spawnMain(
  ctx: OciContext,
  spec: Pick<SandboxSpec, 'id' | 'template' | 'limits' | 'network' | 'seed'>,
  paths: SandboxPaths,
  agentSecret: string,
  uidBase?: number,
  restore?: RestoreFrom,
): Channel {
  const cgroups = ctx.tool.ownCgroups ? ownCgroupDirs(spec.id).flatMap((d) => ['--cgroup', d]) : [];
  // Its own user namespace: the template seen through an idmapped mount; runc joins the namespace
  // and finds the root where the mapped root reaches it, runsc runs inside it (its bundle is there).
  // With a network, the user namespace is the one that owns the network namespace made for it.
  const network = spec.network !== undefined;
  const userns =
    uidBase === undefined
      ? []
      : [
          ...['--idmap', String(uidBase)],
          ...(network ? ['--netns', join(netnsDir(), spec.id)] : []),
          ...(ctx.tool.userns === 'join' ? ['--root', userNsRootPath(spec.id)] : ['--enter']),
        ];
  const masks = network ? ctx.tool.masksWithNetwork.flatMap((m) => ['--mask', m]) : [];
  const how = { bundle: paths.bundle, pidFile: paths.pidFile, containerId: ctx.containerId(spec.id), network };
  if (restore && !ctx.tool.restore) throw new ConflictError(`${ctx.tool.runtime} sandboxes cannot be restored from a checkpoint`);
  const seed = restore
    ? ['--seed-layer', restore.layer, '--image', restore.image]
    : spec.seed === undefined
      ? []
      : ['--seed', spec.seed, ...(ctx.tool.tmpApart ? ['--tmp-apart'] : [])];
  const args = [
    'run', paths.bundle, spec.template.rootfsPath, String(spec.limits.diskMiB), ...cgroups, ...userns, ...masks, ...seed, '--',
    ...(restore && ctx.tool.restore ? ctx.tool.restore(paths.runtimeRoot, { ...how, imagePath: join(paths.bundle, 'checkpoint') }) : ctx.tool.run(paths.runtimeRoot, how)),
  ];
  return channelOver(ctx.prespawner.start(args), agentSecret);
}

/** How runtime processes are started: stdin and stdout are the agent channel, stderr is kept. */
export const RUNTIME_PROCESS_OPTIONS = { env: HOST_PATH, stdin: 'pipe', rawStdout: true, maxOutputBytes: STDERR_CAP } as const;

/** Reaches the init of a running container again (after a restart) through `tt-init attach`. */
export async function attachChannel(ctx: OciContext, id: string, agentSecret: string, joinsUserns = false): Promise<Channel> {
  const paths = ctx.paths(id);
  const processFile = join(paths.dir, 'attach.json');
  const root: ResolvedUser = { uid: 0, gid: 0, additionalGids: [] };
  const process = buildOciProcess({ args: [SANDBOX_INIT, 'attach'], env: HOST_PATH, cwd: '/', user: root });
  // In a user namespace owned by the sandbox's uid the runtime may not set rlimits (see oci-driver.ts).
  await writeFile(processFile, JSON.stringify(joinsUserns ? { ...process, rlimits: [] } : process));
  const argv = ctx.tool.exec(paths.runtimeRoot, { processFile, pidFile: join(paths.dir, 'attach.pid'), containerId: ctx.containerId(id) });
  return channelOver(startProcess(argv, RUNTIME_PROCESS_OPTIONS), agentSecret);
}

/** Resolves true once the runtime wrote the pid file, false if the process ended first. */
export async function waitRunning(paths: SandboxPaths, proc: ProcessHandle): Promise<boolean> {
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(paths.pidFile));
  } catch {
    return pollRunning(paths, proc); // out of inotify instances: fall back to polling
  }
  try {
    const written = new Promise<boolean>((resolve) => {
      watcher.on('change', (_event, name) => {
        if (name === basename(paths.pidFile)) resolve(true);
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

/** The last lines of the runtime's stderr: what to say when it failed. */
export function lastLines(buf: Buffer): string {
  return buf.toString('utf8').trim().split('\n').slice(-3).join('\n');
}

/** True when `path` exists. */
export function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
