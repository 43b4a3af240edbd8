/**
 * Conformance: the main process. Command forms, environment, working directory, user, stdin,
 * separated and capped output, exit codes and reasons, limits, and what the sandbox can see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutputChunk } from '../driver.js';
import type { SandboxOptions } from '../options.js';
import type { SuiteContext } from './suite.js';
import { CONFORMANCE_TEMPLATE } from './suite.js';

/** Registers the main-process tests. */
export function processTests(s: SuiteContext): void {
  const run = (o: Omit<SandboxOptions, 'template' | 'runtime'>) =>
    s.rt().run({ id: s.newId(), template: CONFORMANCE_TEMPLATE, runtime: s.runtime, ...o });

  test('runs an argv command and reports its exit code', async () => {
    const r = await run({ command: ['sh', '-c', 'exit 7'] });
    assert.equal(r.reason, 'exited');
    assert.equal(r.exitCode, 7);
  });

  test('runs a shell string; stdout and stderr are kept apart and streamed with timestamps', async () => {
    const chunks: OutputChunk[] = [];
    const t0 = Date.now();
    const r = await run({ command: 'echo out; echo err >&2; echo out2', onOutput: (c) => chunks.push(c) });
    assert.equal(r.reason, 'exited');
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout.toString(), 'out\nout2\n');
    assert.equal(r.stderr.toString(), 'err\n');
    assert.equal(Buffer.concat(chunks.filter((c) => c.stream === 'stdout').map((c) => c.data)).toString(), 'out\nout2\n');
    assert.ok(chunks.every((c) => c.timeMs >= t0 && c.timeMs <= Date.now()));
  });

  test('the environment is exactly the resolved one (template env + given, nothing of the host)', async () => {
    process.env.TARTARUS_CONFORMANCE_CANARY = 'host-secret';
    try {
      const r = await run({ command: ['env'], env: { FOO: 'bar baz', EMPTY: '' } });
      const lines = new Set(r.stdout.toString().trim().split('\n'));
      assert.ok(lines.has('FOO=bar baz') && lines.has('EMPTY='), r.stdout.toString());
      assert.ok(!r.stdout.toString().includes('host-secret'));
      assert.ok([...lines].every((l) => /^(FOO|EMPTY|PATH|HOME|LANG|TERM|PWD|SHLVL|_)=/.test(l)), r.stdout.toString());
    } finally {
      delete process.env.TARTARUS_CONFORMANCE_CANARY;
    }
  });

  test('cwd and user (uid:gid, name, default unprivileged)', async () => {
    const a = await run({ command: 'pwd; id -u; id -g', cwd: '/tmp', user: '1234:2345' });
    assert.equal(a.stdout.toString(), '/tmp\n1234\n2345\n');
    const b = await run({ command: 'id -un', user: 'root' });
    assert.equal(b.stdout.toString(), 'root\n');
    const c = await run({ command: 'id -u' });
    assert.notEqual(c.stdout.toString(), '0\n');
  });

  test('stdin is delivered, then closed', async () => {
    const r = await run({ command: ['cat'], stdin: 'line one\nline two\n' });
    assert.equal(r.stdout.toString(), 'line one\nline two\n');
  });

  test('output past the cap is dropped with a marker and flagged truncated', async () => {
    const r = await run({ command: 'yes abcdefgh | head -c 100000; echo done >&2', outputLimitBytes: 1000 });
    assert.equal(r.reason, 'exited');
    assert.equal(r.stdoutTruncated, true);
    assert.equal(r.stderrTruncated, false);
    assert.equal(r.stdout.subarray(0, 1000).toString(), 'abcdefgh\n'.repeat(112).slice(0, 1000));
    assert.match(r.stdout.subarray(1000).toString(), /truncated/);
    assert.equal(r.stderr.toString(), 'done\n');
  });

  test('a wall-clock timeout ends the process with reason timeout', async () => {
    const r = await run({ command: ['sleep', '60'], timeoutMs: 500, killGraceMs: 200 });
    assert.equal(r.reason, 'timeout');
    assert.ok(r.exitCode !== 0);
  });

  test('core dumps are off for the workload and its execs (RLIMIT_CORE 0)', async () => {
    const r = await run({ command: 'ulimit -c' });
    assert.equal(r.stdout.toString(), '0\n');
  });

  test('a kill ends the sandbox as soon as the workload has gone: SIGTERM, no wait for the grace', async () => {
    // The workload is a child of the sandbox's init, never PID 1, so SIGTERM ends `sleep`:
    // exit 143 (SIGTERM), not 137 (the SIGKILL after the grace period).
    const sb = await s.rt().createSandbox({ id: s.newId(), template: CONFORMANCE_TEMPLATE, runtime: s.runtime, command: ['sleep', '600'], killGraceMs: 60_000 });
    try {
      await sb.start();
      await sb.kill();
      const r = await sb.wait();
      assert.equal(r.reason, 'killed');
      assert.equal(r.exitCode, 143);
    } finally {
      await sb.destroy();
    }
  });

  test('aborting a run kills the workload (reason killed)', async () => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 500);
    try {
      const r = await s.rt().run({ id: s.newId(), template: CONFORMANCE_TEMPLATE, runtime: s.runtime, command: ['sleep', '60'] }, ac.signal);
      assert.equal(r.reason, 'killed');
    } finally {
      clearTimeout(timer);
    }
  });

  test('exceeding the memory limit is reported as oom', async () => {
    const r = await run({ command: 'a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done', limits: { memoryMiB: 64 }, timeoutMs: 60_000 });
    assert.equal(r.reason, 'oom', `${r.reason} ${r.exitCode} ${r.message ?? ''} ${r.stderr.toString()}`);
  });

  test('the pids limit stops a workload from starting more processes', async () => {
    const r = await run({ command: 'for i in $(seq 100); do sleep 30 & done; echo all started', limits: { pids: 32 }, timeoutMs: 60_000 });
    assert.equal(r.reason, 'exited', r.stderr.toString());
    assert.notEqual(r.exitCode, 0);
    assert.ok(!r.stdout.toString().includes('all started'));
  });

  test('the sandbox sees only its own processes and a loopback-only network', async () => {
    // User processes only (a VM's guest kernel threads have an empty command line).
    const r = await run({
      command:
        'n=0; for p in /proc/[0-9]*; do c=$(tr -d "\\0" < $p/cmdline 2>/dev/null); [ -n "$c" ] && n=$((n+1)); done; echo $n; ' +
        'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "',
    });
    const [count, ...ifaces] = r.stdout.toString().trim().split('\n');
    assert.ok(Number(count) >= 1 && Number(count) <= 6, `saw ${count} processes`);
    assert.deepEqual(ifaces, ['lo']);
  });

  test('loopback is up; privileged operations fail even for root', async () => {
    const r = await run({
      user: 'root',
      command: [
        'ip link show lo',
        'mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED',
        'unshare -n true 2>/dev/null && echo UNSHARED',
        'ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo RAW',
        'mknod /tmp/mem c 1 1 2>/dev/null; cat /tmp/mem >/dev/null 2>&1 && echo DEVMEM',
        'echo end',
      ].join('; '),
    });
    const out = r.stdout.toString();
    assert.match(out, /lo: <[^>]*\bUP\b/, out);
    for (const bad of ['MOUNTED', 'UNSHARED', 'RAW', 'DEVMEM']) assert.ok(!out.includes(bad), `${bad} succeeded:\n${out}`);
    assert.match(out, /end\n$/);
  });

  test('the root is the template plus a private writable layer', async () => {
    const a = await run({ command: 'echo mine > /tmp/left; echo x > /etc/left; cat /tmp/left', user: 'root' });
    assert.equal(a.stdout.toString(), 'mine\n');
    const b = await run({ command: 'ls /tmp/left /etc/left 2>&1; true', user: 'root' });
    assert.match(b.stdout.toString(), /No such file/);
  });

  test('a missing program is reported as an error or a non-zero exit, never a crash', async () => {
    const r = await run({ command: ['/no/such/program'] });
    assert.ok(r.reason === 'error' || (r.reason === 'exited' && r.exitCode !== 0), JSON.stringify(r.reason));
  });
}
