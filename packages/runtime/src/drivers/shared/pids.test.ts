// The pids limit behaves alike under runc and gVisor: 40 processes run, forking past the limit
// fails inside the sandbox with EAGAIN ("can't fork") and nowhere else; and a sandbox whose
// runtime dies under the workload ends as an error that says so, never as a bare exit code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { testRuntime, type TestRuntime } from '../../testing/runtime.js';

let t: TestRuntime;
let available: Record<string, { ok: boolean; reason?: string }> = {};
before(async () => {
  t = await testRuntime();
  available = await t.runtime.available();
});
after(() => t.dispose());

const spawn = (n: number): string =>
  `i=0; while [ $i -lt ${n} ]; do sleep 30 & i=$((i+1)); done; echo started $i; kill $(jobs -p) 2>/dev/null; echo done`;

for (const runtime of ['container', 'gvisor'] as const) {
  test(`${runtime}: many processes run, and a fork past the pids limit fails inside the sandbox`, async (c) => {
    if (available[runtime]?.ok === false) return c.skip(`runtime ${runtime} unavailable: ${available[runtime]?.reason}`);
    const many = await t.runtime.run({ runtime, template: 'busybox', command: spawn(40), timeoutMs: 60_000 });
    assert.equal(many.reason, 'exited', many.message);
    assert.equal(many.stdout.toString(), 'started 40\ndone\n');
    const over = await t.runtime.run({ runtime, template: 'busybox', command: spawn(100), limits: { pids: 50 }, timeoutMs: 60_000 });
    assert.equal(over.reason, 'exited', `the workload ends on its own, not its sandbox: ${over.message ?? ''}`);
    assert.notEqual(over.exitCode, 0);
    assert.match(over.stderr.toString(), /can't fork: Resource temporarily unavailable/);
  });
}

test('gvisor: a sandbox whose runtime dies under the workload ends as an error naming the runtime', async (c) => {
  if (available.gvisor?.ok === false) return c.skip(`runtime gvisor unavailable: ${available.gvisor?.reason}`);
  const s = await t.runtime.createSandbox({ runtime: 'gvisor', template: 'busybox', command: 'sleep 60' });
  try {
    await s.start();
    const sentry = await findProcess((cmd) => cmd.includes('runsc-sandbox') && cmd.includes(s.id));
    assert.ok(sentry, 'the sentry process is found');
    process.kill(sentry, 'SIGKILL');
    const r = await s.wait();
    assert.equal(r.reason, 'error');
    assert.equal(r.exitCode, null);
    assert.match(r.message ?? '', /the sandbox's runtime \(gvisor\) (exited with code \d+|was killed by SIG\w+) while the process ran/);
  } finally {
    await s.destroy();
  }
});

async function findProcess(match: (cmd: string) => boolean): Promise<number | undefined> {
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (match(cmd.replace(/\0/g, ' '))) return Number(p);
  }
  return undefined;
}
