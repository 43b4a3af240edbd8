// Sandboxes and runs from images, on every driver that works here: the image's config honoured,
// Docker's override rules, an image without `sleep` idles, Dockerfile builds, GC never removes a
// root in use.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImageFixtures, type ImageFixtures } from '../testing/image-fixtures.js';
import { testRuntime, TEST_TMP_PREFIX, type TestRuntime } from '../testing/runtime.js';
import { runCommand } from '../process/run.js';
import { ImageStore } from './store.js';
import type { RuntimeName } from '../driver.js';
import type { SandboxOptions } from '../options.js';

const skip = process.getuid?.() === 0 ? false : 'needs root (sandboxes, umoci)';
if (skip) console.log(`# image run tests skipped: ${skip}`);

let fx: ImageFixtures;
let dir: string;
let t: TestRuntime;
let available: Record<string, { ok: boolean; reason?: string }> = {};

before(async () => {
  if (skip) return;
  fx = await startImageFixtures();
  dir = await mkdtemp(join(tmpdir(), `${TEST_TMP_PREFIX}imagerun-`));
  t = await testRuntime({ images: new ImageStore({ dir: join(dir, 'images') }) });
  available = await t.runtime.available();
});

after(async () => {
  if (skip) return;
  await t?.dispose();
  await fx?.stop();
  await rm(dir, { recursive: true, force: true });
});

function skipUnless(runtime: RuntimeName): string | false {
  if (skip) return skip;
  return available[runtime]?.ok === false ? `runtime ${runtime} unavailable: ${available[runtime]?.reason}` : false;
}

type RunOptions = SandboxOptions;

async function run(options: Omit<RunOptions, 'template'>) {
  const r = await t.runtime.run({ timeoutMs: 120_000, ...options, template: 'unused' });
  return { ...r, out: r.stdout.toString('utf8') };
}

for (const runtime of ['container', 'gvisor'] as const) {
  test(`${runtime}: a run without a command runs ENTRYPOINT + CMD as the image's USER in its WORKDIR, with its ENV`, { skip: skipUnless(runtime) }, async () => {
    const r = await run({ runtime, image: fx.app.ref, whenNoCommand: 'image' });
    assert.equal(r.exitCode, 0, r.stderr.toString());
    assert.equal(r.out, 'cmd-ran hello\n1234\n1234\n/home/app\nsecond-layer\n');
  });
}

test("container: Docker's override rules and user forms, end to end", { skip: skipUnless('container') }, async () => {
  const cases: [string, Omit<RunOptions, 'template'>, string][] = [
    ['command replaces CMD, after the ENTRYPOINT', { command: ['echo "$GREETING from argv"'] }, 'hello from argv\n'],
    ['entrypoint replaces ENTRYPOINT and clears CMD', { entrypoint: ['/bin/echo'], whenNoCommand: 'image' }, '\n'],
    ['entrypoint and command', { entrypoint: ['/bin/echo'], command: ['a', 'b'] }, 'a b\n'],
    ['user override by name', { user: 'root', command: ['id -u; id -g'] }, '0\n0\n'],
    ['user:group by names', { user: 'app:root', command: ['id -u; id -g'] }, '1234\n0\n'],
    ['uid:gid', { user: '4321:4321', command: ['id -u; id -g'] }, '4321\n4321\n'],
    ['env merged over the image', { env: { GREETING: 'bye' }, command: ['echo $GREETING; echo $PATH'] }, 'bye\n/bin\n'],
    ['cwd override', { cwd: '/tmp', command: ['pwd'] }, '/tmp\n'],
  ];
  for (const [name, o, want] of cases) {
    const r = await run({ runtime: 'container', image: fx.app.ref, ...o });
    assert.equal(r.out, want, `${name}: ${r.stderr.toString()}`);
  }
  await assert.rejects(run({ runtime: 'container', image: fx.app.ref, user: 'nobody-here' }), /user "nobody-here" does not exist in the template/);
  await assert.rejects(run({ runtime: 'container', image: fx.app.ref, user: 'app:nogroup' }), /group "nogroup" does not exist/);
});

test('container: a sandbox from an image without sleep idles, execs and ends on kill', { skip: skipUnless('container') }, async () => {
  const s = await t.runtime.createSandbox({ runtime: 'container', template: 'unused', image: fx.nosleep.ref });
  try {
    await s.start();
    const r = await (await s.exec({ argv: ['sh', '-c', 'test -e /bin/sleep || echo no-sleep; echo alive'] })).wait();
    assert.equal(r.stdout.toString(), 'no-sleep\nalive\n');
    await s.kill({ graceMs: 1000 });
    assert.equal((await s.wait()).reason, 'killed');
  } finally {
    await s.destroy();
  }
});

test('microvm: a run from an image boots its root and runs its CMD', { skip: skipUnless('microvm') }, async () => {
  const r = await run({ runtime: 'microvm', image: fx.app.ref, whenNoCommand: 'image' });
  assert.equal(r.exitCode, 0, r.stderr.toString());
  assert.equal(r.out, 'cmd-ran hello\n1234\n1234\n/home/app\nsecond-layer\n');
});

test('a Dockerfile builds (base image from the registry, RUN, COPY, config) and runs', { skip: skipUnless('container') }, async () => {
  const ctx = join(dir, 'ctx');
  await mkdir(join(ctx, 'sub'), { recursive: true });
  await writeFile(
    join(ctx, 'sub', 'Dockerfile'),
    [`FROM ${fx.app.ref}`, 'USER root', 'RUN echo built-by-run > /built.txt', 'COPY hello.txt /app/', 'WORKDIR /app', 'ENV WHO=dockerfile',
      'ENTRYPOINT ["/bin/sh", "-c"]', 'CMD ["cat /built.txt hello.txt; echo $WHO $GREETING; pwd"]'].join('\n'),
  );
  await writeFile(join(ctx, 'hello.txt'), 'from-context\n');
  const tar = await runCommand(['tar', '-C', ctx, '-cf', '-', '.'], { maxOutputBytes: 64 << 20 });
  const phases = new Set<string>();
  const built = await t.runtime.images.build({
    tag: 'tartarus.local/ten_test/app:latest',
    context: Buffer.from(tar.stdout, 'binary'),
    dockerfile: 'sub/Dockerfile',
    onProgress: (p) => phases.add(p.phase),
  });
  assert.ok(phases.has('build'), [...phases].join(','));
  assert.equal(built.record.config.workdir, '/app');
  const r = await run({ runtime: 'container', image: `tartarus.local/ten_test/app@${built.record.digest}`, whenNoCommand: 'image' });
  assert.equal(r.out, 'built-by-run\nfrom-context\ndockerfile hello\n/app\n', r.stderr.toString());
  await assert.rejects(
    t.runtime.images.build({ tag: 'tartarus.local/ten_test/bad:latest', context: Buffer.from(tar.stdout, 'binary'), dockerfile: '../etc/passwd' }),
    /must be a relative path inside the build context/,
  );
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${fx.app.ref}\nRUN exit 3\n`);
  const tar2 = await runCommand(['tar', '-C', ctx, '-cf', '-', '.'], { maxOutputBytes: 64 << 20 });
  await assert.rejects(
    t.runtime.images.build({ tag: 'tartarus.local/ten_test/fails:latest', context: Buffer.from(tar2.stdout, 'binary'), dockerfile: 'Dockerfile' }),
    /building tartarus\.local\/ten_test\/fails:latest from Dockerfile failed/,
  );
  assert.deepEqual((await readdir(join(dir, 'images', 'tmp'))).filter((n) => !n.startsWith('gc-')), []);
});

test('garbage collection never removes the root of a running sandbox', { skip: skipUnless('container') }, async () => {
  const s = await t.runtime.createSandbox({ runtime: 'container', template: 'unused', image: fx.nosleep.ref });
  try {
    await s.start();
    const digest = (await t.runtime.images.ensure(fx.nosleep.ref)).record.digest;
    const c = await t.runtime.images.collect({ budgetBytes: 0, minIdleMs: 0 });
    assert.equal(c.removed.includes(digest), false, 'in use: kept');
    assert.equal((await (await s.exec({ argv: ['sh', '-c', 'echo still-here'] })).wait()).stdout.toString(), 'still-here\n');
  } finally {
    await s.destroy();
  }
  const c = await t.runtime.images.collect({ budgetBytes: 0, minIdleMs: 0 });
  assert.ok(c.removed.length >= 1);
  assert.deepEqual(await t.runtime.images.list(), []);
});
