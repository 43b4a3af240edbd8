/** Test helpers: spawn the real `tartarus` binary and capture what it prints. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@tartarus/sdk/testing';

/** Why server-backed CLI tests cannot run here (not root, no runc), or undefined. */
export { serverSkipReason } from '@tartarus/sdk/testing';

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

/** Starts the SDK's test server (temp data dir, free port); `close()` stops it and removes the dir. */
export async function startCliServer(): Promise<CliServer> {
  const server = await startTestServer();
  return {
    dataDir: server.dataDir,
    env: { TARTARUS_DATA_DIR: server.dataDir },
    close: () => server.close(),
  };
}
