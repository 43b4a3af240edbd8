// `tartarus validate` and `tartarus import compose`, through the real binary; no server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli-test-helpers.js';

const SPEC = `version: v1
deployment: shop
services:
  api:
    image: {name: "ghcr.io/acme/api:2"}
    env:
      DATABASE_URL: $E:DATABASE_URL
    network: {join: {mode: token}}
    endpoints:
      - {name: web, protocol: http, port: 80, target_port: 8080, expose: public}
    scale: {mode: adaptive, min: 2, max: 8}
  nightly:
    rtype: cron
    schedule: "0 3 * * *"
    image: {name: "template:python"}
`;

const COMPOSE = `services:
  web:
    image: nginx:1.25
    ports: ["8080:80"]
    volumes: ["./site:/usr/share/nginx/html:ro"]
    depends_on: {api: {condition: service_healthy}}
  api:
    build: .
    environment: [TOKEN]
    healthcheck: {test: ["CMD", "true"], interval: 5s}
`;

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tartarus-cli-spec-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'validate lists the services and their kinds; $E: comes from the environment',
  withDir(async (dir) => {
    const file = join(dir, 'deploy.yaml');
    writeFileSync(file, SPEC);
    const ok = await cli(['validate', file], { DATABASE_URL: 'postgres://db/shop' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /deployment shop, 2 service\(s\)/);
    assert.match(
      ok.stdout,
      /^api\s+service\s+ghcr\.io\/acme\/api:2\s+adaptive 2\.\.8\s+web http 80→8080 public$/m,
    );
    assert.match(ok.stdout, /^nightly\s+cron 0 3 \* \* \*\s+template:python\s+fixed 1\s+-$/m);
    assert.equal(
      ok.stderr,
      `warning: ${file}:8: services.api.network: ignored: ZLayer's overlay and join settings have no effect in Tartarus\n`,
    );

    const json = await cli(['validate', file, '--json'], { DATABASE_URL: 'postgres://db/shop' });
    const body = JSON.parse(json.stdout) as {
      plan: { services: { name: string; env: Record<string, unknown> }[] };
    };
    assert.deepEqual(body.plan.services[0]?.env, { DATABASE_URL: { value: 'postgres://db/shop' } });

    const unset = await cli(['validate', file]);
    assert.equal(unset.status, 2);
    assert.equal(unset.stdout, '');
    assert.match(
      unset.stderr,
      new RegExp(
        `^error: ${file}:7: services\\.api\\.env\\.DATABASE_URL: \\$E:DATABASE_URL: the variable DATABASE_URL is not set in the deploying environment\\n$`,
        'm',
      ),
    );
  }),
);

test(
  'a malformed spec is one error line naming file, line and field, exit 2',
  withDir(async (dir) => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, SPEC.replace('max: 8', 'max: 8, burst: 3'));
    const r = await cli(['validate', file], { DATABASE_URL: 'x' });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      new RegExp(`^error: ${file}:11: services\\.api\\.scale\\.burst: unknown field`),
    );
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('error:')).length,
      1,
    );
    const missing = await cli(['validate', join(dir, 'absent.yaml')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^error: cannot read .*absent\.yaml: no such file/);
    const stdin = await cli(['validate', '-'], { DATABASE_URL: 'x' }, SPEC);
    assert.equal(stdin.status, 0, stdin.stderr);
    assert.match(stdin.stdout, /^<stdin>: deployment shop/);
  }),
);

test(
  'import compose writes the spec and lists what it could not map, one line each',
  withDir(async (dir) => {
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(file, COMPOSE);
    const r = await cli(['import', 'compose', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# Imported from .*docker-compose\.yml/);
    assert.match(r.stdout, new RegExp(`deployment: ${dir.split('/').pop()?.toLowerCase()}`));
    assert.deepEqual(r.stderr.trim().split('\n'), [
      `${file}:5: services.web.volumes: not mapped: replicas have no persistent storage or host mounts`,
      `${file}:8: services.api.build: no image to run: build it, push it and set image.name (example.invalid/api:latest is written in its place)`,
    ]);

    const out = join(dir, 'deploy.yaml');
    const written = await cli(['import', 'compose', file, '-o', out, '--name', 'shop']);
    assert.equal(written.status, 0, written.stderr);
    assert.match(written.stdout, /^wrote .*deploy\.yaml \(deployment shop, 2 service\(s\)\)$/m);
    const spec = readFileSync(out, 'utf8');
    assert.match(spec, /TOKEN: \$E:TOKEN/);
    assert.match(
      spec,
      /- name: tcp-8080\n\s+protocol: tcp\n\s+port: 8080\n\s+target_port: 80\n\s+expose: public/,
    );
    const valid = await cli(['validate', out], { TOKEN: 't' });
    assert.equal(valid.status, 0, valid.stderr);
    assert.match(valid.stdout, /^web\s+service\s+nginx:1\.25/m);

    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'volumes: {}\n');
    const refused = await cli(['import', 'compose', bad]);
    assert.equal(refused.status, 2);
    assert.equal(
      refused.stderr,
      `error: ${bad}:1: services: a Compose file needs a services mapping with at least one service\n`,
    );
  }),
);
