// Compose → V1 spec, field by field, and what could not be mapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeploymentSpecError,
  importCompose,
  loadDeployment,
  parseDeploymentSpec,
} from './index.js';

const COMPOSE = `name: Web_Shop
services:
  proxy:
    image: nginx:1.25-alpine
    pull_policy: always
    ports:
      - "80:8080"
      - "127.0.0.1:9443:443"
      - target: 53
        published: 5353
        protocol: udp
      - 3000-3001
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
    networks: [front]
    depends_on:
      api:
        condition: service_healthy
    restart: unless-stopped
    healthcheck:
      test: curl -fsS http://localhost:8080/ || exit 1
  api:
    build: ./api
    entrypoint: /docker-entrypoint.sh
    command: node server.js --name "web shop"
    working_dir: /srv
    environment:
      NODE_ENV: production
      PORT: 8080
      DATABASE_URL: \${DATABASE_URL}
      SESSION: $SESSION_SECRET
      GREETING: "costs $$5"
      MIXED: "x-\${HOST}"
      HOME_DIR:
    expose: ["8080"]
    depends_on:
      db:
        condition: service_healthy
        restart: true
      migrate:
        condition: service_completed_successfully
      cache:
        condition: service_started
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8080/health?x=1 2"]
      interval: 1m30s
      timeout: 10s
      retries: 5
      start_period: 20s
      start_interval: 1s
    deploy:
      replicas: 3
      resources:
        limits: {cpus: "1.5", memory: 1.5g}
        reservations: {memory: 256m}
    restart: on-failure:5
  db:
    image: postgres:16
    environment: ["POSTGRES_USER=shop", "POSTGRES_PASSWORD"]
    command: ["postgres", "-c", "max_connections=200"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U shop"]
    cpus: 0.5
    mem_limit: 512m
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 3}
  cache:
    image: redis:7
    healthcheck: {test: ["NONE"]}
    restart: "no"
  migrate:
    image: ghcr.io/acme/migrate:1
    command: ["./migrate", "up"]
    depends_on: [db]
volumes:
  pgdata: {}
networks:
  front: {}
`;

test('a Compose file is imported into a V1 spec: names, image, ports, health, restart', () => {
  const { spec } = importCompose(COMPOSE, { file: 'docker-compose.yml' });
  assert.equal(spec.version, 'v1');
  assert.equal(spec.deployment, 'web-shop');
  assert.deepEqual(Object.keys(spec.services), ['proxy', 'api', 'db', 'cache', 'migrate']);
  const { proxy } = spec.services;
  assert.deepEqual(proxy?.image, { name: 'nginx:1.25-alpine', pull_policy: 'always' });
  assert.deepEqual(proxy?.endpoints, [
    { name: 'tcp-80', protocol: 'tcp', port: 80, target_port: 8080, expose: 'public' },
    { name: 'tcp-9443', protocol: 'tcp', port: 9443, target_port: 443, expose: 'internal' },
    { name: 'udp-5353', protocol: 'udp', port: 5353, target_port: 53, expose: 'public' },
    { name: 'tcp-3000', protocol: 'tcp', port: 3000, expose: 'public' },
    { name: 'tcp-3001', protocol: 'tcp', port: 3001, expose: 'public' },
  ]);
  assert.deepEqual(proxy?.depends, [{ service: 'api', condition: 'healthy' }]);
  assert.deepEqual(proxy?.errors, { on_panic: 'restart' });
  assert.deepEqual(proxy?.scale, { mode: 'fixed', replicas: 1 });
  assert.deepEqual(proxy?.health, {
    start_grace: '0s',
    interval: '30s',
    timeout: '30s',
    retries: 3,
    check: { type: 'command', command: 'curl -fsS http://localhost:8080/ || exit 1' },
  });
});

test('a built service: command, environment, resources, dependencies with their conditions', () => {
  const { api } = importCompose(COMPOSE, { file: 'docker-compose.yml' }).spec.services;
  assert.deepEqual(api?.image, { name: 'example.invalid/api:latest' });
  assert.deepEqual(api?.command, {
    entrypoint: ['/docker-entrypoint.sh'],
    args: ['node', 'server.js', '--name', 'web shop'],
    workdir: '/srv',
  });
  assert.deepEqual(api?.env, {
    NODE_ENV: 'production',
    PORT: '8080',
    DATABASE_URL: '$E:DATABASE_URL',
    SESSION: '$E:SESSION_SECRET',
    GREETING: 'costs $5',
    MIXED: 'x-${HOST}',
    HOME_DIR: '$E:HOME_DIR',
  });
  assert.deepEqual(api?.endpoints, [
    { name: 'tcp-8080', protocol: 'tcp', port: 8080, expose: 'internal' },
  ]);
  assert.deepEqual(api?.depends, [
    { service: 'db', condition: 'healthy' },
    { service: 'migrate', condition: 'healthy' },
    { service: 'cache', condition: 'started' },
  ]);
  assert.deepEqual(api?.health, {
    start_grace: '20s',
    interval: '1m30s',
    timeout: '10s',
    retries: 5,
    check: { type: 'command', command: "curl -f 'http://localhost:8080/health?x=1 2'" },
  });
  assert.deepEqual(api?.scale, { mode: 'fixed', replicas: 3 });
  assert.deepEqual(api?.resources, { cpu: 1.5, memory: '1536Mi' });
  assert.deepEqual(api?.errors, { on_panic: 'restart' });
});

test('list forms, older resource keys, restart policies, and a service waited on to complete', () => {
  const { db, cache, migrate } = importCompose(COMPOSE, { file: 'docker-compose.yml' }).spec
    .services;
  assert.deepEqual(db?.command, { args: ['postgres', '-c', 'max_connections=200'] });
  assert.deepEqual(db?.env, { POSTGRES_USER: 'shop', POSTGRES_PASSWORD: '$E:POSTGRES_PASSWORD' });
  assert.deepEqual(db?.health?.check, { type: 'command', command: 'pg_isready -U shop' });
  assert.deepEqual(db?.resources, { cpu: 0.5, memory: '512Mi' });
  assert.deepEqual(db?.errors, { on_panic: 'restart' });

  assert.equal(cache?.health, undefined);
  assert.deepEqual(cache?.errors, { on_panic: 'shutdown' });

  assert.equal(migrate?.rtype, 'job');
  assert.deepEqual(migrate?.depends, [{ service: 'db', condition: 'started' }]);
  assert.deepEqual(migrate?.errors, { on_panic: 'shutdown' });
});

test('what could not be mapped is listed with its Compose path and line', () => {
  const { unmapped } = importCompose(COMPOSE, { file: 'docker-compose.yml' });
  const where = unmapped.map((u) => `${u.line} ${u.path}`);
  assert.deepEqual(where, [
    '1 name',
    '8 services.proxy.ports[1]',
    '13 services.proxy.volumes',
    '15 services.proxy.networks',
    '23 services.api.build',
    '33 services.api.environment.MIXED',
    '39 services.api.depends_on.db.restart',
    '50 services.api.healthcheck.start_interval',
    '55 services.api.deploy.resources.reservations',
    '56 services.api.restart',
    '66 services.db.deploy.restart_policy.max_attempts',
    '69 services.cache.healthcheck',
    '71 services.migrate',
    '75 volumes',
    '77 networks',
  ]);
  const message = (path: string) => unmapped.find((u) => u.path === path)?.message ?? '';
  assert.match(
    message('services.proxy.volumes'),
    /not mapped: replicas have no persistent storage/,
  );
  assert.match(message('services.api.build'), /build it, push it and set image\.name/);
  assert.match(message('services.api.restart'), /limit of 5 restarts is not mapped/);
  assert.match(message('services.migrate'), /made a job/);
  assert.match(message('services.cache.healthcheck'), /disabled: not mapped/);
  assert.match(
    message('services.proxy.ports[1]'),
    /published on 127\.0\.0\.1 only: written as an internal endpoint/,
  );
  assert.ok(
    !unmapped.some((u) => /does not validate/.test(u.message)),
    'the imported spec validates',
  );
});

test('the imported YAML reads back as the same spec and deploys', () => {
  const { spec, yaml } = importCompose(COMPOSE, { file: 'docker-compose.yml' });
  assert.match(yaml, /^# Imported from docker-compose\.yml by `tartarus import compose`/);
  assert.deepEqual(parseDeploymentSpec(yaml).spec, spec);
  const env = {
    DATABASE_URL: 'postgres://db/shop',
    SESSION_SECRET: 's',
    HOME_DIR: '/home',
    POSTGRES_PASSWORD: 'p',
  };
  const { plan } = loadDeployment(yaml, { env });
  assert.deepEqual(
    plan.services.map((s) => `${s.name}:${s.kind}`),
    ['proxy:service', 'api:service', 'db:service', 'cache:service', 'migrate:job'],
  );
});

test('names are made DNS names, and the deployment is named from the options', () => {
  const { spec, unmapped } = importCompose(
    'services:\n  my_app:\n    image: app\n  "1st":\n    image: app\n',
    { name: 'Shop' },
  );
  assert.equal(spec.deployment, 'shop');
  assert.deepEqual(Object.keys(spec.services), ['my-app', 's-1st']);
  assert.deepEqual(
    unmapped.map((u) => `${u.line} ${u.path}`),
    ['2 services.my_app', '4 services.1st'],
  );
});

test('a file without services is refused with its line', () => {
  assert.throws(
    () => importCompose('version: "3"\nvolumes: {}\n', { file: 'c.yml' }),
    (e: unknown) =>
      e instanceof DeploymentSpecError &&
      e.message ===
        'c.yml:1: services: a Compose file needs a services mapping with at least one service',
  );
  assert.throws(
    () => importCompose('services:\n  a: [\n', { file: 'c.yml' }),
    /c\.yml:\d+: not valid YAML/,
  );
});
