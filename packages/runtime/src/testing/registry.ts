/**
 * A real OCI registry on loopback for tests: `/usr/bin/docker-registry` (distribution 2.8) on
 * 127.0.0.1 and a free port, its storage in a fresh temp dir (`tt-registry-*`), optionally behind
 * htpasswd basic auth. Images are put in it by `./images.ts`.
 *
 * Design rules:
 * - Plain HTTP, also with auth. distribution 2.8 serves htpasswd auth over plain HTTP (it does
 *   not insist on TLS), and skopeo 1.9 sends `--dest-creds`/`--src-creds`/`--creds` over HTTP
 *   when told `--*tls-verify=false`. So there is no TLS and no CA certificate to hand around.
 * - The test process owns the registry. `stop()` (SIGTERM, SIGKILL after 2 s, then the temp dir
 *   removed) is idempotent. The child stays attached (same process group, not detached), so a
 *   Ctrl-C in a terminal reaches it too.
 * - After a crash nothing is left behind, whichever way the test process ends:
 *   - a normal exit, even with a registry never stopped: a process 'exit' handler kills it and
 *     removes its dir synchronously. The child and its pipes are unref'd, so a forgotten
 *     registry does not keep the test process alive.
 *   - killed by a signal, even SIGKILL, when no 'exit' handler runs: each registry has a
 *     watchdog `sh` that waits for EOF on a pipe only this process holds, ignoring SIGINT/TERM/HUP.
 *     When this process dies the pipe closes, and the watchdog kills the registry and removes
 *     the dir. (Node has no PR_SET_PDEATHSIG, so this is how the child dies with its parent.)
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Basic-auth credentials of a registry. */
export interface RegistryAuth {
  username: string;
  password: string;
}

/** Options of `startRegistry()`. */
export interface StartRegistryOptions {
  /** Require these credentials (htpasswd, bcrypt). Default: no auth. */
  auth?: RegistryAuth;
  /** Give up when `GET /v2/` has not answered after this long. Default 15 000 ms. */
  startTimeoutMs?: number;
}

/** A running registry; call `stop()` in `finally`/`after`. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`: what goes before the repository in an image reference. */
  readonly host: string;
  /** The credentials it requires, if any. */
  readonly auth?: RegistryAuth;
  /** Process id of the registry. */
  readonly pid: number;
  /** Its temp dir (config, htpasswd, storage); gone after `stop()`. */
  readonly dir: string;
  /** The registry's log output so far: its last 64 KiB. */
  logs(): string;
  /** Kills it (SIGTERM, SIGKILL after 2 s), waits for it and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

const REGISTRY_BIN = '/usr/bin/docker-registry';
const LOG_CAP_BYTES = 64 * 1024;
const STOP_GRACE_MS = 2000;
const BIND_ATTEMPTS = 5;
const START_TIMEOUT_MS = 15_000;

const execFileAsync = promisify(execFile);

/**
 * Runs one external tool for the test fixtures: argv only (no shell), killed after `timeoutMs`
 * (default 60 000). Resolves with its stdout; rejects with an Error naming the command (any
 * credentials masked) and carrying its stderr.
 */
export async function runTool(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 16 << 20,
      encoding: 'utf8',
    });
    return stdout;
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; stderr?: string; killed?: boolean };
    const shown = args.map((a, i) => (/creds$/.test(args[i - 1] ?? '') ? '***' : a));
    const how = e.killed
      ? `timed out after ${timeoutMs} ms`
      : `failed (exit ${String(e.code ?? e.signal)})`;
    throw new Error(`${file} ${shown.join(' ')} ${how}: ${(e.stderr ?? '').trim()}`, {
      cause: err,
    });
  }
}

/** A registry child with what the exit handler needs to clean up after it. */
interface Live {
  child: ChildProcess;
  watchdog: ChildProcess;
  dir: string;
}
const live = new Set<Live>();

function onProcessExit(): void {
  for (const l of live) {
    l.watchdog.kill('SIGKILL');
    l.child.kill('SIGKILL');
    rmSync(l.dir, { recursive: true, force: true });
  }
}

/** A port free now (the kernel's pick for port 0); the registry may still lose a race for it. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string')
    throw new Error('no TCP port from listen(0)');
  return address.port;
}

/** The registry's config. JSON is YAML, so no YAML writer is needed. */
function registryConfig(dir: string, port: number, htpasswdPath?: string): string {
  return JSON.stringify({
    version: '0.1',
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'data') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    // A fixed secret silences the "no HTTP secret" warning (only matters behind a load balancer).
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    ...(htpasswdPath ? { auth: { htpasswd: { realm: 'tartarus-test', path: htpasswdPath } } } : {}),
  });
}

/** Starts the watchdog that removes `child` and `dir` once this process is gone (see header). */
function startWatchdog(child: ChildProcess, dir: string): ChildProcess {
  // Kills the pid only while it is still this registry (its command line names the dir).
  const script = `trap '' INT TERM HUP; read -r _
    grep -aqsF -- "$2" "/proc/$1/cmdline" && kill -KILL "$1"; rm -rf -- "$2"`;
  const watchdog = spawn(
    '/bin/sh',
    ['-c', script, 'tt-registry-watchdog', String(child.pid), dir],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  watchdog.unref();
  (watchdog.stdin as unknown as Socket).unref();
  watchdog.on('error', () => {
    /* only a failed spawn of /bin/sh; the exit handler still covers a normal exit */
  });
  return watchdog;
}

/** Waits for a child to end; SIGTERM first, SIGKILL after `graceMs`. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

type Attempt =
  | { ok: true; registry: TestRegistry }
  | { ok: false; portTaken: boolean; why: string; log: string };

/** One start on one port: spawn, then wait for `GET /v2/` or the child's end. */
async function attempt(dir: string, port: number, options: StartRegistryOptions): Promise<Attempt> {
  const configPath = join(dir, 'config.yml');
  const htpasswd = options.auth && join(dir, 'htpasswd');
  await writeFile(configPath, registryConfig(dir, port, htpasswd));

  // A clean environment: distribution lets REGISTRY_* variables override its config file.
  const child = spawn(REGISTRY_BIN, ['serve', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  let log = '';
  const collect = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-LOG_CAP_BYTES);
  };
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', collect);
    (stream as unknown as Socket | null)?.unref();
  }
  child.unref();
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', (err) => {
    exited = true;
    collect(Buffer.from(`spawn ${REGISTRY_BIN}: ${err.message}\n`));
  });
  const l: Live = { child, watchdog: startWatchdog(child, dir), dir };
  live.add(l);

  const host = `127.0.0.1:${port}`;
  const ready = await waitReady(host, options, () => exited);
  if (!ready) {
    const why = exited
      ? `exited (${child.exitCode ?? child.signalCode})`
      : `did not answer GET /v2/ in ${options.startTimeoutMs ?? START_TIMEOUT_MS} ms`;
    live.delete(l);
    l.watchdog.kill('SIGKILL');
    if (child.pid !== undefined) await terminate(child, STOP_GRACE_MS);
    return { ok: false, portTaken: /address already in use/.test(log), why, log };
  }
  let stopped: Promise<void> | undefined;
  const registry: TestRegistry = {
    host,
    ...(options.auth && { auth: { ...options.auth } }),
    pid: child.pid as number, // set: the registry answered
    dir,
    logs: () => log,
    stop: () =>
      (stopped ??= (async () => {
        // The watchdog first: it is our unreaped child, so killing it can hit no other process.
        l.watchdog.kill('SIGKILL');
        await terminate(child, STOP_GRACE_MS);
        await rm(dir, { recursive: true, force: true });
        live.delete(l);
      })()),
  };
  return { ok: true, registry };
}

/** Polls `GET /v2/` until it answers 200 (401 with auth); false if the child ends or time is up. */
async function waitReady(
  host: string,
  options: StartRegistryOptions,
  exited: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + (options.startTimeoutMs ?? START_TIMEOUT_MS);
  const expected = options.auth ? 401 : 200;
  while (Date.now() < deadline && !exited()) {
    try {
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === expected) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Starts a registry on 127.0.0.1 and a free port and waits until it answers. A port taken
 * between picking it and the registry binding it is retried with another (up to 5 times). Throws
 * with the registry's log if it does not come up.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  if (!process.listeners('exit').includes(onProcessExit)) process.on('exit', onProcessExit);
  const dir = await mkdtemp(join(tmpdir(), 'tt-registry-'));
  try {
    await mkdir(join(dir, 'data'));
    if (options.auth) {
      const { username, password } = options.auth;
      // -B bcrypt (the only hash distribution accepts), -b password from argv, -n to stdout.
      const line = await runTool('htpasswd', ['-Bbn', username, password], 30_000);
      await writeFile(join(dir, 'htpasswd'), line.trim() + '\n');
    }
    let last: Attempt | undefined;
    for (let i = 0; i < BIND_ATTEMPTS; i++) {
      last = await attempt(dir, await freePort(), options);
      if (last.ok) return last.registry;
      if (!last.portTaken) break;
    }
    const { why, log } = last && !last.ok ? last : { why: 'not started', log: '' };
    throw new Error(`docker-registry ${why}; its log:\n${log.trim() || '(empty)'}`);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
