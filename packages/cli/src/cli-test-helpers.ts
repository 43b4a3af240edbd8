/** Test helpers: spawn the real `tartarus` binary and capture what it prints. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbedded } from '@tartarus/server';

/** Path of the `tartarus` bin script. */
export const BIN = fileURLToPath(new URL('../bin/tartarus.js', import.meta.url));

/** What one CLI invocation printed and how it exited. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tartarus ...args` with `env` added to a clean environment (no TARTARUS_* inherited). */
export function cli(
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<CliResult> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('TARTARUS_')),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...base, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** A running embedded server for CLI tests; the CLI finds it through `TARTARUS_DATA_DIR`. */
export interface CliServer {
  dataDir: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Why server-backed CLI tests cannot run here, or undefined. */
export function serverSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the embedded server runs runc containers, which needs root';
  if (spawnSync('runc', ['--version'], { stdio: 'ignore' }).status !== 0)
    return 'runc is not installed (run scripts/setup.sh)';
  return undefined;
}

/** Starts `startEmbedded` in a temp data dir on a free port; `close()` stops it and removes the dir. */
export async function startCliServer(): Promise<CliServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-cli-test-'));
  try {
    const server = await startEmbedded({ dataDir, port: 0 });
    return {
      dataDir,
      env: { TARTARUS_DATA_DIR: dataDir },
      close: async () => {
        try {
          await server.close({ destroySandboxes: true });
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}
