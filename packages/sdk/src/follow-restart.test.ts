// followLogs across a server restart: the stream is resumed after the last chunk seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tartarus, type RunLogEntry } from './index.js';
import { serverSkipReason } from './test-server.js';

interface Embedded {
  url: string;
  adminKey?: string;
  close(o?: { destroySandboxes?: boolean }): Promise<void>;
}
type Start = (o: { dataDir: string; port: number }) => Promise<Embedded>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

test(
  'followLogs survives a server restart and ends with the final state',
  { skip: serverSkipReason() },
  async () => {
    const serverModule = '@tartarus/server'; // see test-server.ts: only the tests load the server
    const { startEmbedded } = (await import(serverModule)) as { startEmbedded: Start };
    const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-sdk-restart-'));
    const port = await freePort();
    let server: Embedded | undefined = await startEmbedded({ dataDir, port });
    try {
      const client = new Tartarus({ url: server.url, apiKey: server.adminKey });
      const run = await client.runs.submit({ command: 'echo a; sleep 3; echo b' });
      const seen: RunLogEntry[] = [];
      const logs = client.runs.followLogs(run.id);
      let step = await logs.next();
      for (; !step.done; step = await logs.next()) {
        seen.push(step.value);
        if (seen.length === 1) {
          await server.close();
          server = undefined;
          server = await startEmbedded({ dataDir, port });
        }
      }
      assert.equal(step.value, 'succeeded');
      const seqs = seen.map((e) => e.seq);
      assert.deepEqual(
        seqs,
        [...new Set(seqs)].sort((a, b) => a - b),
        'no chunk twice, in order',
      );
      assert.equal(seen.at(-1)?.data, 'b\n');
    } finally {
      await server?.close({ destroySandboxes: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);
