// The SDK against a real embedded server and real runc sandboxes (busybox template).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CommandExitError,
  NotFoundError,
  Sandbox,
  SandboxNotRunningError,
  TartarusError,
} from './index.js';
import { serverSkipReason, startTestServer, type TestServer } from './test-server.js';

const skip = serverSkipReason();

describe('Sandbox against an embedded server', { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  test('commands stream output and return a non-zero exit as data; check: true throws CommandExitError', async () => {
    const sbx = await Sandbox.create({
      url: server.url,
      apiKey: server.adminKey,
      template: 'busybox',
      timeoutMs: 60_000,
    });
    try {
      assert.equal(sbx.info.state, 'running');
      let streamed = '';
      let streamedErr = '';
      const r = await sbx.commands.run('echo out; echo err >&2; exit 3', {
        onStdout: (d) => (streamed += d),
        onStderr: (d) => (streamedErr += d),
      });
      assert.equal(r.exitCode, 3);
      assert.equal(r.stdout, 'out\n');
      assert.equal(r.stderr, 'err\n');
      assert.equal(streamed, 'out\n');
      assert.equal(streamedErr, 'err\n');
      const argv = await sbx.commands.run(['sh', '-c', 'echo "$A-$0"', 'x'], { env: { A: 'b' } });
      assert.equal(argv.stdout, 'b-x\n');
      await assert.rejects(
        sbx.commands.run(['sh', '-c', 'echo partial; exit 7'], { check: true }),
        (e: unknown) => {
          assert.ok(e instanceof CommandExitError && e instanceof TartarusError);
          assert.equal(e.exitCode, 7);
          assert.equal(e.stdout, 'partial\n');
          return true;
        },
      );
    } finally {
      await sbx.kill();
    }
  });

  test('files: write, read, list, remove', async () => {
    const sbx = await Sandbox.create({ url: server.url, apiKey: server.adminKey });
    try {
      await sbx.files.write('/tmp/dir/a.txt', 'hello\n');
      await sbx.files.write('/tmp/dir/b.bin', new Uint8Array([0, 1, 2, 255]));
      assert.equal(await sbx.files.read('/tmp/dir/a.txt'), 'hello\n');
      assert.deepEqual([...(await sbx.files.readBytes('/tmp/dir/b.bin'))], [0, 1, 2, 255]);
      const names = (await sbx.files.list('/tmp/dir')).map((f) => f.name).sort();
      assert.deepEqual(names, ['a.txt', 'b.bin']);
      assert.equal((await sbx.commands.run('cat /tmp/dir/a.txt')).stdout, 'hello\n');
      await sbx.files.remove('/tmp/dir/a.txt');
      await assert.rejects(sbx.files.read('/tmp/dir/a.txt'), NotFoundError);
    } finally {
      await sbx.kill();
    }
  });

  test('a background command takes stdin over the WebSocket and can be killed', async () => {
    const sbx = await Sandbox.create({ url: server.url, apiKey: server.adminKey });
    try {
      let seen = '';
      const cat = await sbx.commands.run(['cat'], {
        background: true,
        onStdout: (d) => (seen += d),
      });
      cat.sendStdin('ping\n');
      cat.closeStdin();
      const r = await cat.wait();
      assert.equal(r.exitCode, 0);
      assert.equal(seen, 'ping\n');
      const sleeper = await sbx.commands.run(['sleep', '30'], { background: true });
      sleeper.kill('SIGKILL');
      const killed = await sleeper.wait();
      assert.notEqual(killed.exitCode, 0);
    } finally {
      await sbx.kill();
    }
  });

  test('a killed sandbox refuses commands with a typed error; kill is idempotent; connect/list see it', async () => {
    const sbx = await Sandbox.create({ url: server.url, apiKey: server.adminKey });
    try {
      const again = await Sandbox.connect(sbx.id, { url: server.url, apiKey: server.adminKey });
      assert.equal(again.id, sbx.id);
      const page = await Sandbox.list({ url: server.url, apiKey: server.adminKey });
      assert.ok(page.items.some((s) => s.id === sbx.id));
    } finally {
      await sbx.kill();
    }
    await sbx.kill();
    assert.equal((await sbx.getInfo()).state, 'killed');
    await assert.rejects(
      sbx.commands.run('true'),
      (e: unknown) => e instanceof SandboxNotRunningError || e instanceof NotFoundError,
    );
  });
});
