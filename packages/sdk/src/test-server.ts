/**
 * Test fixture: a real embedded server (SQLite, scheduler, in-process agent, real runc) in a temp
 * data dir on a free loopback port. Tests that need it skip, with the reason printed, when this
 * machine cannot run containers. The CLI's tests use it too, as `@tartarus/sdk/testing`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running embedded server. */
export interface TestServer {
  url: string;
  adminKey: string;
  dataDir: string;
  close(): Promise<void>;
}

interface EmbeddedModule {
  startEmbedded(o: {
    dataDir: string;
    port: number;
    host?: string;
  }): Promise<{
    url: string;
    adminKey?: string;
    close(o?: { destroySandboxes?: boolean }): Promise<void>;
  }>;
}

/** Why the server-backed tests cannot run here, or undefined when they can. */
export function serverSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the embedded server runs runc containers, which needs root';
  const runc = spawnSync('runc', ['--version'], { stdio: 'ignore' });
  if (runc.status !== 0) return 'runc is not installed (run scripts/setup.sh)';
  return undefined;
}

/** Starts an embedded server; `close()` stops it and deletes its data dir. */
export async function startTestServer(): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-sdk-test-'));
  // A string specifier: the SDK does not depend on the server, only its tests do (see README).
  const serverModule = '@tartarus/server';
  try {
    const { startEmbedded } = (await import(serverModule)) as EmbeddedModule;
    const server = await startEmbedded({ dataDir, port: 0, host: '127.0.0.1' });
    if (!server.adminKey) throw new Error('a fresh embedded server returned no admin key');
    return {
      url: server.url,
      adminKey: server.adminKey,
      dataDir,
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
