// `tartarus templates` and `tartarus registries` against an embedded server and a loopback registry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTestImage,
  pushTestImage,
  startRegistry,
  type PushedImage,
  type TestRegistry,
} from '@tartarus/runtime/testing';
import { cli, serverSkipReason, startCliServer, type CliServer } from './cli-test-helpers.js';

describe('tartarus templates and registries', { skip: serverSkipReason() }, () => {
  let server: CliServer;
  let registry: TestRegistry;
  let image: PushedImage;
  let dir: string;
  const t = (args: string[], stdin?: string) => cli(args, server.env, stdin);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tt-cli-images-'));
    registry = await startRegistry();
    await buildTestImage(join(dir, 'layout'), 'app', {
      busybox: true,
      layers: [],
      config: { env: { PATH: '/bin' }, cmd: ['echo', 'from-image'] },
    });
    image = await pushTestImage(join(dir, 'layout'), 'app', registry, 'cli/app:1');
    server = await startCliServer();
  });
  after(async () => {
    await server?.close();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('templates create / ls / get / rm', async () => {
    const created = await t(['templates', 'create', 'web', '--image', image.ref]);
    assert.equal(created.status, 0, created.stderr);
    const ref = image.ref.replace(/[.]/g, '\\.');
    assert.match(
      created.stdout,
      new RegExp(`^created web \\(image ${ref}, ${image.digest.slice(0, 19)}, [\\d.]+ MiB\\)\\n$`),
    );
    const ls = await t(['templates', 'ls']);
    assert.match(ls.stdout, /^NAME\s+BUILT\s+SOURCE\s+STATUS/);
    assert.match(ls.stdout, /busybox\s+(yes|no)\s+builtin\s+ready/);
    assert.match(ls.stdout, /web\s+yes\s+image\s+ready/);
    const got = JSON.parse((await t(['templates', 'get', 'web', '--json'])).stdout) as {
      digest: string;
      config: { cmd: string[] };
    };
    assert.deepEqual([got.digest, got.config.cmd], [image.digest, ['echo', 'from-image']]);
    assert.match((await t(['templates', 'get', 'web'])).stdout, /source:\s+image\n/);
    const run = await t(['run', '--template', 'web']);
    assert.deepEqual([run.status, run.stdout], [0, 'from-image\n'], run.stderr);
    const dup = await t(['templates', 'create', 'web', '--image', image.ref]);
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /^error: template "web" exists.*\n$/);
    assert.equal((await t(['templates', 'rm', 'web'])).stdout, 'deleted web\n');
    const gone = await t(['templates', 'get', 'web']);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^error: template "web" not found\n$/);
  });

  test('templates build --dockerfile: context checked, packed, built, rebuilt', async () => {
    const ctx = join(dir, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${image.ref}\n`);
    const outside = await t([
      'templates',
      'build',
      'df',
      '--dockerfile',
      join(ctx, 'Dockerfile'),
      '--context',
      join(dir, 'layout'),
    ]);
    assert.equal(outside.status, 2);
    assert.match(outside.stderr, /^error: --dockerfile .* is not inside the build context/);
    const missing = await t(['templates', 'build', 'df', '--dockerfile', join(ctx, 'nope')]);
    assert.deepEqual(
      [missing.status, missing.stderr.trim()],
      [2, `error: --dockerfile ${join(ctx, 'nope')}: no such file`],
    );
    const stray = await t(['templates', 'build', 'busybox', '--context', ctx]);
    assert.equal(stray.status, 2);
    assert.match(stray.stderr, /--context goes with --dockerfile/);
    // The context defaults to the Dockerfile's dir; the Dockerfile may sit deeper in --context.
    await mkdir(join(ctx, 'files'), { recursive: true });
    await writeFile(join(ctx, 'files', 'msg'), 'from-context\n');
    await writeFile(
      join(ctx, 'Dockerfile'),
      `FROM ${image.ref}\nCOPY files/msg /msg\nCMD ["cat", "/msg"]\n`,
    );
    const built = await t(['templates', 'build', 'df', '--dockerfile', join(ctx, 'Dockerfile')]);
    assert.equal(built.status, 0, built.stderr);
    assert.match(
      built.stdout,
      /^built df \(Dockerfile Dockerfile, sha256:[0-9a-f]{12}, [\d.]+ MiB\)\n$/,
    );
    const run = await t(['run', '--template', 'df']);
    assert.deepEqual([run.status, run.stdout], [0, 'from-context\n'], run.stderr);
    await mkdir(join(dir, 'outer', 'docker'), { recursive: true });
    await writeFile(join(dir, 'outer', 'docker', 'app.Dockerfile'), `FROM ${image.ref}\n`);
    const nested = await t([
      'templates',
      'build',
      'df2',
      '--dockerfile',
      join(dir, 'outer', 'docker', 'app.Dockerfile'),
      '--context',
      join(dir, 'outer'),
      '--json',
    ]);
    assert.equal(nested.status, 0, nested.stderr);
    assert.equal(
      (JSON.parse(nested.stdout) as { description: string }).description,
      'Dockerfile docker/app.Dockerfile',
    );
    const rebuilt = await t(['templates', 'rebuild', 'df']);
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, /^rebuilt df /);
  });

  test('registries login (password from stdin only) / ls / logout', async () => {
    const host = registry.host;
    const noStdin = await t(['registries', 'login', host, '--username', 'me']);
    assert.equal(noStdin.status, 2);
    assert.match(noStdin.stderr, /--password-stdin/);
    const login = await t(
      ['registries', 'login', host, '-u', 'me', '--password-stdin'],
      's3cret-token\n',
    );
    assert.equal(login.status, 0, login.stderr);
    assert.equal(login.stdout, `logged in to ${host} as me\n`);
    const ls = await t(['registries', 'ls']);
    assert.match(ls.stdout, new RegExp(`${host}\\s+me\\s+`));
    const json = await t(['registries', 'ls', '--json']);
    assert.ok(!json.stdout.includes('s3cret'), 'the password is never shown');
    assert.deepEqual(
      (JSON.parse(json.stdout) as { registry: string }[]).map((c) => c.registry),
      [host],
    );
    assert.equal((await t(['registries', 'logout', host])).stdout, `logged out of ${host}\n`);
    const again = await t(['registries', 'logout', host]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^error: no credentials stored for registry/);
    assert.equal((await t(['registries', 'ls'])).stdout, '(none)\n');
  });
});
