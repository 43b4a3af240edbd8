/**
 * Conformance: a long-lived sandbox. Exec (streamed stdio, exit code, overrides, kill), files
 * (read, write, list, remove, confinement), pause/resume, stats and kill.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxHandle } from '../driver.js';
import type { SandboxOptions } from '../options.js';
import { TEST_TMP_PREFIX } from '../testing/runtime.js';
import type { SuiteContext } from './suite.js';
import { CONFORMANCE_TEMPLATE } from './suite.js';

/** Creates and starts a sandbox for `fn`, destroyed afterwards. */
export async function withSandbox(
  s: SuiteContext,
  options: Omit<SandboxOptions, 'template' | 'runtime'>,
  fn: (sb: SandboxHandle) => Promise<void>,
): Promise<void> {
  const sb = await s.rt().createSandbox({ id: s.newId(), template: CONFORMANCE_TEMPLATE, runtime: s.runtime, ...options });
  try {
    await sb.start();
    await fn(sb);
  } finally {
    await sb.destroy();
  }
}

/** Starts `argv` in `sb` in the background; resolves once its stdout shows `word`, with a reader of all its stdout so far. */
async function execUntil(sb: SandboxHandle, argv: string[], word: string): Promise<() => string> {
  let out = '';
  await new Promise<void>((resolve) => {
    void sb.exec({
      argv,
      onOutput: (c) => {
        if (c.stream === 'stdout') out += c.data.toString();
        if (out.includes(word)) resolve();
      },
    });
  });
  return () => out;
}

/** Registers the sandbox tests. */
export function sandboxTests(s: SuiteContext): void {
  test('exec: streamed stdout/stderr, exit code, env/cwd/user overrides, stdin', async () => {
    await withSandbox(s, {}, async (sb) => {
      const seen: string[] = [];
      const e = await sb.exec({ argv: ['sh', '-c', 'echo $A; pwd; id -u; echo oops >&2; exit 4'], env: { A: 'x' }, cwd: '/tmp', user: '0', onOutput: (c) => seen.push(c.stream) });
      const r = await e.wait();
      assert.equal(r.exitCode, 4);
      assert.equal(r.reason, 'exited');
      assert.equal(r.stdout.toString(), 'x\n/tmp\n0\n');
      assert.equal(r.stderr.toString(), 'oops\n');
      assert.ok(seen.includes('stdout') && seen.includes('stderr'));
      const cat = await sb.exec({ argv: ['cat'], stdin: true });
      await cat.writeStdin('hello ');
      await cat.writeStdin(Buffer.from('world'));
      await cat.closeStdin();
      assert.equal((await cat.wait()).stdout.toString(), 'hello world');
    });
  });

  test('exec: kill and timeout', async () => {
    await withSandbox(s, { killGraceMs: 300 }, async (sb) => {
      const e = await sb.exec({ argv: ['sleep', '60'] });
      await new Promise((r) => setTimeout(r, 300));
      await e.kill('SIGKILL');
      const r = await e.wait();
      assert.equal(r.reason, 'killed');
      const t = await sb.exec({ argv: ['sleep', '60'], timeoutMs: 300 });
      assert.equal((await t.wait()).reason, 'timeout');
      assert.equal(sb.state(), 'running');
    });
  });

  test('files: write, read, list, remove', async () => {
    await withSandbox(s, {}, async (sb) => {
      const bin = Buffer.from([0, 1, 2, 255, 10, 13]);
      await sb.files.write('/tmp/a/b/data.bin', bin, { mode: 0o600 });
      assert.deepEqual(await sb.files.read('/tmp/a/b/data.bin'), bin);
      await sb.files.write('/tmp/a/hello.txt', 'hi');
      const list = await sb.files.list('/tmp/a');
      assert.deepEqual(list.map((e) => [e.name, e.type]), [['b', 'dir'], ['hello.txt', 'file']]);
      assert.equal(list[1]?.sizeBytes, 2);
      assert.equal((await sb.files.list('/tmp/a/b'))[0]?.mode, 0o600);
      const seen = await (await sb.exec({ argv: ['cat', '/tmp/a/hello.txt'] })).wait();
      assert.equal(seen.stdout.toString(), 'hi', 'the workload sees what files.write wrote');
      await sb.files.remove('/tmp/a/hello.txt');
      await assert.rejects(sb.files.read('/tmp/a/hello.txt'), { code: 'not_found' });
      await assert.rejects(sb.files.remove('/tmp/a'), { code: 'invalid_argument' });
      await sb.files.remove('/tmp/a', { recursive: true });
      await assert.rejects(sb.files.list('/tmp/a'), { code: 'not_found' });
      await assert.rejects(sb.files.write('/tmp/m', 'x', { mode: -1 }), { code: 'invalid_argument' });
      await assert.rejects(sb.files.remove('/', { recursive: true }), { code: 'invalid_argument' });
    });
  });

  test('files: a huge directory listing is refused with what to do, and the sandbox keeps serving', async () => {
    await withSandbox(s, {}, async (sb) => {
      // 10,000 entries (the cap) list; one more is refused by the in-sandbox agent before it is sent.
      const mk = await (await sb.exec({ argv: ['sh', '-c', 'mkdir -p /tmp/big && cd /tmp/big && seq 1 10000 | xargs touch && ls | wc -l'] })).wait();
      assert.equal(mk.stdout.toString().trim(), '10000', mk.stderr.toString());
      assert.equal((await sb.files.list('/tmp/big')).length, 10_000);
      await (await sb.exec({ argv: ['touch', '/tmp/big/one-more'] })).wait();
      await assert.rejects(sb.files.list('/tmp/big'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'invalid_argument');
        assert.match(e.message, /directory \/tmp\/big has more than 10000 entries: list it in parts with exec/);
        return true;
      });
      const after = await (await sb.exec({ argv: ['echo', 'still serving'] })).wait();
      assert.equal(after.stdout.toString(), 'still serving\n');
    });
  });

  test('files: .., absolute symlinks and swapped symlinks cannot reach the host', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), `${TEST_TMP_PREFIX}host-`));
    const secret = join(hostDir, 'secret');
    writeFileSync(secret, 'host secret');
    try {
      await withSandbox(s, { user: 'root' }, async (sb) => {
        await assert.rejects(sb.files.read(`/../../../../..${secret}`), { code: 'not_found' });
        const ln = await sb.exec({ argv: ['sh', '-c', `mkdir -p /tmp/x && ln -s ${hostDir} /tmp/x/abs && ln -s ../../../../../../../.. /tmp/x/up`] });
        assert.equal((await ln.wait()).exitCode, 0);
        await assert.rejects(sb.files.read('/tmp/x/abs/secret'), { code: 'not_found' });
        await assert.rejects(sb.files.read(`/tmp/x/up${secret}`), { code: 'not_found' });
        // Writes through the links land inside the sandbox or fail there; the host is checked below.
        await sb.files.write('/tmp/x/abs/planted', 'x').catch(() => undefined);
        await sb.files.write(`/tmp/x/up${hostDir}/planted2`, 'x').catch(() => undefined);
        // A symlink swapped in a loop while files are read: every read stays inside.
        const swap = await sb.exec({ argv: ['sh', '-c', `while :; do ln -sfn / /tmp/x/sw; ln -sfn ${hostDir} /tmp/x/sw; done`] });
        for (let i = 0; i < 5; i++) await sb.files.read('/tmp/x/sw/secret').catch(() => undefined);
        await swap.kill('SIGKILL');
        await swap.wait();
      });
      assert.ok(!existsSync(join(hostDir, 'planted')) && !existsSync(join(hostDir, 'planted2')), 'a write landed on the host');
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  test('pause stops exec until resume; stats report use', async () => {
    await withSandbox(s, {}, async (sb) => {
      await sb.pause();
      assert.equal(sb.state(), 'paused');
      await assert.rejects(sb.exec({ argv: ['true'] }), { code: 'sandbox_not_running' });
      await sb.resume();
      assert.equal(sb.state(), 'running');
      const r = await (await sb.exec({ argv: ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo ok'] })).wait();
      assert.equal(r.stdout.toString(), 'ok\n');
      const st = await sb.stats();
      assert.ok(st.cpuUsageNs > 0 && st.memoryBytes > 0 && st.pids >= 1, JSON.stringify(st));
    });
  });

  test('kill: TERM, then KILL after the grace period; reason killed; idempotent', async () => {
    await withSandbox(s, { killGraceMs: 300 }, async (sb) => {
      await sb.kill();
      const r = await sb.wait();
      assert.equal(r.reason, 'killed');
      assert.equal(sb.state(), 'exited');
      await sb.kill();
      await assert.rejects(sb.exec({ argv: ['true'] }), { code: 'sandbox_not_running' });
    });
  });

  test('kill gives every process of the workload SIGTERM and the grace: exec’d ones finish their work; the sandbox ends once they have gone', async () => {
    await withSandbox(s, {}, async (sb) => {
      const out = await execUntil(sb, ['sh', '-c', 'trap "echo term; sleep 0.3; echo done; exit 0" TERM; echo ready; while :; do sleep 0.05; done'], 'ready');
      const t0 = Date.now();
      await sb.kill({ graceMs: 20_000 });
      const r = await sb.wait();
      assert.equal(r.reason, 'killed');
      assert.match(out(), /ready\nterm\ndone\n/, 'the exec’d process had SIGTERM and the time to finish');
      assert.ok(Date.now() - t0 < 15_000, 'the sandbox ended once its workload had gone, not at the end of the grace');
    });
  });

  test('kill: what the main’s children write after the main has exited, while they finish, is kept', async () => {
    const main = ['sh', '-c', '(trap "sleep 0.3; echo child-bye; exit 0" TERM; while :; do sleep 0.05; done) & echo up; wait'];
    await withSandbox(s, { command: main }, async (sb) => {
      await new Promise((r) => setTimeout(r, 500));
      await sb.kill({ graceMs: 20_000 });
      const r = await sb.wait();
      assert.equal(r.reason, 'killed');
      assert.match(r.stdout.toString(), /up\nchild-bye\n/, 'written to the main’s stdout after the main itself had exited');
    });
  });

  test('snapshotFiles: a sandbox seeded from it has the files, owners and deletions; the two go on apart', async (c) => {
    await withSandbox(s, {}, async (a) => {
      if (!a.snapshotFiles) return c.skip(`${s.runtime} sandboxes have no filesystem snapshots yet`);
      const run = async (sb: SandboxHandle, cmd: string, user?: string) => (await (await sb.exec({ argv: ['sh', '-c', cmd], ...(user ? { user } : {}) })).wait()).stdout.toString();
      // A file with a 40 GiB hole takes its data's room in a snapshot, not its length's.
      await run(a, 'echo kept > /home/sandbox/note.txt; mkdir -p /home/sandbox/d/e; echo deep > /home/sandbox/d/e/f; truncate -s 40G /home/sandbox/sparse');
      await run(a, 'echo secret > /root/r.txt; chmod 600 /root/r.txt; rm /bin/vi', '0');
      await run(a, 'mkdir -p /tmp/t; echo in-tmp > /tmp/t/f');
      const dir = mkdtempSync(join(tmpdir(), TEST_TMP_PREFIX));
      try {
        const tar = join(dir, 'files.tar');
        await assert.rejects(a.snapshotFiles(tar, { maxBytes: 1024 }), { code: 'quota_exceeded' });
        const { sizeBytes } = await a.snapshotFiles(tar);
        assert.ok(sizeBytes > 0 && sizeBytes < 16 * 1024 * 1024, `${sizeBytes} bytes`);
        assert.equal(a.state(), 'running', 'frozen only while its files were read');
        await withSandbox(s, { seed: tar }, async (b) => {
          assert.equal(await run(b, 'cat /home/sandbox/note.txt /home/sandbox/d/e/f; stat -c %u:%g /home/sandbox/note.txt; test -e /bin/vi || echo vi-gone; stat -c %s /home/sandbox/sparse'), 'kept\ndeep\n1000:1000\nvi-gone\n42949672960\n');
          assert.equal(await run(b, 'cat /root/r.txt; stat -c %a:%u /root/r.txt', '0'), 'secret\n600:0\n');
          assert.equal(await run(b, 'cat /root/r.txt 2>/dev/null || echo denied'), 'denied\n', 'the sandbox user still may not read root’s file');
          assert.equal(await run(b, 'cat /tmp/t/f; stat -c %u /tmp/t/f'), 'in-tmp\n1000\n', '/tmp is in the snapshot too (gVisor keeps it apart from the overlay)');
          await run(b, 'echo changed > /home/sandbox/note.txt');
          assert.equal(await run(a, 'cat /home/sandbox/note.txt'), 'kept\n', 'the copy is independent');
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  test('kill: a process that ignores SIGTERM is killed at the end of the grace', async () => {
    await withSandbox(s, {}, async (sb) => {
      await execUntil(sb, ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'], 'ready');
      const t0 = Date.now();
      await sb.kill({ graceMs: 1500 });
      assert.equal((await sb.wait()).reason, 'killed');
      assert.ok(Date.now() - t0 >= 1400, `the grace was given (ended after ${Date.now() - t0} ms)`);
    });
  });
}
