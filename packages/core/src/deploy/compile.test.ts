// Spec → plan: every field, every default, $E: and $S:, cron schedules, dependency cycles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEPLOY_DEFAULTS,
  DeploymentSpecError,
  compileDeployment,
  cronScheduleProblem,
  loadDeployment,
  parseDeploymentSpec,
  type DeploymentPlan,
  type ServicePlan,
} from './index.js';

const FULL = `version: v1
deployment: shop
services:
  api:
    rtype: service
    image:
      name: ghcr.io/acme/api:2.1
      pull_policy: always
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ["exec node server.js"]
      workdir: /app
    resources:
      cpu: 1.5
      memory: 1Gi
    env:
      NODE_ENV: production
      PORT: 8080
      DEBUG: false
      DATABASE_URL: $E:DATABASE_URL
      API_TOKEN: $S:api-token
    network:
      overlays: {service: {enabled: true, encrypted: true, isolated: true}}
      join: {mode: token, scope: service}
    endpoints:
      - name: web
        protocol: https
        port: 443
        target_port: 8080
        path: /api
        expose: public
      - name: metrics
        protocol: http
        port: 9090
    scale:
      mode: adaptive
      min: 2
      max: 20
      cooldown: 1m30s
      targets: {cpu: 70%, memory: 80, rps: 500}
    depends:
      - service: db
        condition: healthy
        timeout: 2m
        on_timeout: warn
      - service: migrate
    health:
      start_grace: 20s
      interval: 15s
      timeout: 2s
      retries: 5
      check: {type: http, url: "http://localhost:8080/healthz?deep=1", expect_status: 204}
    init:
      steps:
        - id: wait-db
          uses: init.wait_tcp
          with: {host: db, port: 5432}
          retry: 3
          timeout: 1m
          on_failure: fail
        - id: ping
          uses: init.wait_http
          with: {url: "http://db:8008/ready"}
          on_failure: continue
    errors:
      on_init_failure: {action: backoff}
      on_panic: isolate
    node_mode: dedicated
    node_selector:
      labels: {zone: eu-1, ssd: true}
  db:
    image: {name: "postgres:16"}
    endpoints: [{name: pg, protocol: tcp, port: 5432}]
    scale: {mode: fixed, replicas: 1}
    health:
      check: {type: tcp, port: 0}
    errors:
      on_init_failure: restart
      on_panic: {action: shutdown}
    node_mode: exclusive
  migrate:
    rtype: job
    image: {name: "template:python"}
    command: {args: [python3, /app/migrate.py]}
    health:
      check: {type: command, command: "test -f /tmp/done"}
  report:
    rtype: cron
    schedule: "0 0 6 * * MON-FRI *"
    image: {name: "ghcr.io/acme/report:1", pull_policy: never}
    scale: {mode: manual}
`;

const BASE: Omit<ServicePlan, 'name' | 'kind' | 'image'> = {
  pullPolicy: 'if_not_present',
  entrypoint: null,
  args: null,
  workdir: null,
  env: {},
  cpu: null,
  memoryMiB: null,
  endpoints: [],
  scale: { mode: 'fixed', replicas: 1 },
  depends: [],
  health: null,
  init: [],
  errors: { onInitFailure: 'fail', onPanic: 'restart' },
  schedule: null,
  nodeMode: 'shared',
  nodeSelector: {},
};

const EXPECTED: DeploymentPlan = {
  name: 'shop',
  services: [
    {
      ...BASE,
      name: 'api',
      kind: 'service',
      image: 'ghcr.io/acme/api:2.1',
      pullPolicy: 'always',
      entrypoint: ['/bin/sh', '-c'],
      args: ['exec node server.js'],
      workdir: '/app',
      env: {
        NODE_ENV: { value: 'production' },
        PORT: { value: '8080' },
        DEBUG: { value: 'false' },
        DATABASE_URL: { value: 'postgres://db/shop' },
        API_TOKEN: { secret: 'api-token' },
      },
      cpu: 1.5,
      memoryMiB: 1024,
      endpoints: [
        {
          name: 'web',
          protocol: 'https',
          port: 443,
          targetPort: 8080,
          path: '/api',
          expose: 'public',
        },
        {
          name: 'metrics',
          protocol: 'http',
          port: 9090,
          targetPort: 9090,
          path: null,
          expose: 'internal',
        },
      ],
      scale: {
        mode: 'adaptive',
        min: 2,
        max: 20,
        cooldownMs: 90_000,
        targets: { cpuPercent: 70, memoryPercent: 80, rps: 500 },
      },
      depends: [
        { service: 'db', condition: 'healthy', timeoutMs: 120_000, onTimeout: 'warn' },
        { service: 'migrate', condition: 'healthy', timeoutMs: 300_000, onTimeout: 'fail' },
      ],
      health: {
        startGraceMs: 20_000,
        intervalMs: 15_000,
        timeoutMs: 2_000,
        retries: 5,
        check: { type: 'http', port: 8080, path: '/healthz?deep=1', expectStatus: 204 },
      },
      init: [
        {
          id: 'wait-db',
          uses: 'init.wait_tcp',
          with: { host: 'db', port: 5432 },
          retry: 3,
          timeoutMs: 60_000,
          onFailure: 'fail',
        },
        {
          id: 'ping',
          uses: 'init.wait_http',
          with: { url: 'http://db:8008/ready' },
          retry: 0,
          timeoutMs: null,
          onFailure: 'continue',
        },
      ],
      errors: { onInitFailure: 'backoff', onPanic: 'isolate' },
      nodeMode: 'dedicated',
      nodeSelector: { zone: 'eu-1', ssd: 'true' },
    },
    {
      ...BASE,
      name: 'db',
      kind: 'service',
      image: 'postgres:16',
      endpoints: [
        {
          name: 'pg',
          protocol: 'tcp',
          port: 5432,
          targetPort: 5432,
          path: null,
          expose: 'internal',
        },
      ],
      health: {
        startGraceMs: 5_000,
        intervalMs: 10_000,
        timeoutMs: 5_000,
        retries: 3,
        check: { type: 'tcp', port: 5432 },
      },
      errors: { onInitFailure: 'restart', onPanic: 'shutdown' },
      nodeMode: 'exclusive',
    },
    {
      ...BASE,
      name: 'migrate',
      kind: 'job',
      image: 'template:python',
      pullPolicy: 'never',
      args: ['python3', '/app/migrate.py'],
      health: {
        startGraceMs: 5_000,
        intervalMs: 10_000,
        timeoutMs: 5_000,
        retries: 3,
        check: { type: 'command', command: 'test -f /tmp/done' },
      },
    },
    {
      ...BASE,
      name: 'report',
      kind: 'cron',
      image: 'ghcr.io/acme/report:1',
      pullPolicy: 'never',
      scale: { mode: 'manual', replicas: 1 },
      schedule: '0 0 6 * * MON-FRI *',
    },
  ],
};

test('a spec using every field compiles to the expected plan', () => {
  const { plan, warnings } = loadDeployment(FULL, {
    file: 'shop.yaml',
    env: { DATABASE_URL: 'postgres://db/shop' },
  });
  assert.deepEqual(plan, EXPECTED);
  assert.deepEqual(
    warnings.map((w) => w.path),
    ['services.api.network'],
  );
});

test('a minimal service gets every default', () => {
  const { plan } = loadDeployment(
    'version: v1\ndeployment: tiny\nservices:\n  web:\n    image: {name: nginx}\n    endpoints: [{name: http, protocol: http, port: 80}]\n  worker:\n    image: {name: worker}\n',
    { env: {} },
  );
  const d = DEPLOY_DEFAULTS;
  assert.deepEqual(plan.services[0], {
    ...BASE,
    name: 'web',
    kind: 'service',
    image: 'nginx',
    endpoints: [
      { name: 'http', protocol: 'http', port: 80, targetPort: 80, path: null, expose: 'internal' },
    ],
    scale: {
      mode: 'adaptive',
      min: d.adaptive.min,
      max: d.adaptive.max,
      cooldownMs: d.adaptive.cooldownMs,
      targets: { cpuPercent: 70, memoryPercent: null, rps: null },
    },
    health: {
      startGraceMs: 5_000,
      intervalMs: 10_000,
      timeoutMs: 5_000,
      retries: 3,
      check: { type: 'tcp', port: 80 },
    },
  });
  // No endpoint: nothing to check, the service is healthy once started.
  assert.equal(plan.services[1]?.health, null);
});

test('$E:NAME is read from the environment given to compile, only as the whole value', () => {
  const text =
    'version: v1\ndeployment: shop\nservices:\n  api:\n    image: {name: nginx}\n    env:\n      A: $E:HOST_A\n      B: "x$E:HOST_A"\n      C: "HOST_A"\n      D: ""\n';
  const { plan, warnings } = loadDeployment(text, { env: { HOST_A: 'from-env' } });
  assert.deepEqual(plan.services[0]?.env, {
    A: { value: 'from-env' },
    B: { value: 'x$E:HOST_A' },
    C: { value: 'HOST_A' },
    D: { value: '' },
  });
  assert.deepEqual(
    warnings.map((w) => `${w.line} ${w.path}`),
    ['8 services.api.env.B'],
  );
  // Set but empty is set.
  assert.deepEqual(loadDeployment(text, { env: { HOST_A: '' } }).plan.services[0]?.env.A, {
    value: '',
  });
  // A value that starts like a reference but is not one is refused rather than passed on as text.
  assert.throws(
    () => loadDeployment(text.replace('$E:HOST_A\n', '"$E:HOST_A "\n'), { env: {} }),
    /line 7: services\.api\.env\.A: "\$E:HOST_A ": \$E: must be followed by a variable name only/,
  );
});

test('an unset $E: variable is an error naming the variable and the field (and the other unset ones)', () => {
  const text =
    'version: v1\ndeployment: shop\nservices:\n  api:\n    image: {name: nginx}\n    env:\n      URL: $E:DATABASE_URL\n      KEY: $E:API_KEY\n  web:\n    image: {name: nginx}\n    env:\n      URL: $E:DATABASE_URL\n';
  assert.throws(
    () => loadDeployment(text, { file: 'deploy.yaml', env: { PATH: '/bin' } }),
    (e: unknown) => {
      assert.ok(e instanceof DeploymentSpecError);
      assert.equal(
        e.message,
        'deploy.yaml:7: services.api.env.URL: $E:DATABASE_URL: the variable DATABASE_URL is not set in the deploying environment (also unset: API_KEY)',
      );
      assert.deepEqual(
        e.issues.map((i) => i.path),
        ['services.api.env.URL', 'services.api.env.KEY', 'services.web.env.URL'],
      );
      return true;
    },
  );
});

test('$S:name becomes a secret reference for the server to resolve', () => {
  const text =
    'version: v1\ndeployment: shop\nservices:\n  api:\n    image: {name: nginx}\n    env:\n      TOKEN: $S:github.token\n';
  assert.deepEqual(loadDeployment(text, { env: {} }).plan.services[0]?.env, {
    TOKEN: { secret: 'github.token' },
  });
  assert.throws(
    () => loadDeployment(text.replace('github.token', '-bad'), { env: {} }),
    /services\.api\.env\.TOKEN: "\$S:-bad": \$S: must be followed by a secret name/,
  );
});

test('cron schedules: 5, 6 and 7 fields accepted; others refused', () => {
  for (const ok of [
    '0 3 * * *',
    '*/15 9-17 * * MON-FRI',
    '30 0 3 * * *',
    '0 0 0 * * * *',
    '0 */5 * * * * *',
    '0 0 12 * * MON-FRI *',
    '0 0 0 1 1 * 2030',
    '0 0 0 1 1 * 2027-2030,2035',
  ]) {
    assert.equal(cronScheduleProblem(ok), null, ok);
  }
  for (const [bad, why] of [
    ['61 * * * *', /not a cron schedule/],
    ['0 0 * * * * * *', /not a cron schedule/],
    ['every day', /not a cron schedule/],
    ['0 0 0 * * 1 *', /numeric day of week is ambiguous in a 7-field/],
    ['0 0 0 * * 1-5', /numeric day of week is ambiguous in a 6-field/],
    ['@daily', /nicknames are not read: write the fields, e\.g\. "0 0 \* \* \*"/],
    ['0 0 0 * * * 2030/2', /year field must be \*, a year, a list or a range/],
  ] as const) {
    assert.match(cronScheduleProblem(bad) ?? '', why, bad);
  }
  // In a 5-field schedule a numeric weekday is standard cron's (0 or 7 = Sunday).
  assert.equal(cronScheduleProblem('0 9 * * 1-5'), null);
  const text = (schedule: string) =>
    `version: v1\ndeployment: jobs\nservices:\n  nightly:\n    rtype: cron\n    schedule: "${schedule}"\n    image: {name: busybox}\n`;
  assert.equal(
    loadDeployment(text('0 0 3 * * * *'), { env: {} }).plan.services[0]?.schedule,
    '0 0 3 * * * *',
  );
  assert.throws(
    () => loadDeployment(text('0 25 * * *'), { file: 'c.yaml', env: {} }),
    /^DeploymentSpecError: c\.yaml:6: services\.nightly\.schedule: "0 25 \* \* \*" is not a cron schedule/,
  );
});

test('a dependency cycle is refused, naming the services around it', () => {
  const text = `version: v1
deployment: loop
services:
  a:
    image: {name: nginx}
    depends: [{service: b}]
  b:
    image: {name: nginx}
    depends: [{service: c, condition: started}]
  c:
    image: {name: nginx}
    depends: [{service: a}]
`;
  assert.throws(
    () => loadDeployment(text, { file: 'loop.yaml', env: {} }),
    /^DeploymentSpecError: loop\.yaml:12: services\.c\.depends\[0\]\.service: dependencies go round in a cycle: a → b → c → a$/,
  );
  assert.throws(
    () => loadDeployment(text.replace('service: b}', 'service: a}'), { env: {} }),
    /services\.a\.depends\[0\]\.service: a service cannot depend on itself/,
  );
});

test('public endpoints of different services share a port only as HTTP routes', () => {
  const text = (path2: string, proto2: string) => `version: v1
deployment: edge
services:
  web:
    image: {name: nginx}
    endpoints: [{name: www, protocol: http, port: 80, expose: public}]
  api:
    image: {name: nginx}
    endpoints: [{name: api, protocol: ${proto2}, port: 80, ${path2}expose: public}]
`;
  assert.doesNotThrow(() => loadDeployment(text('path: /api, ', 'http'), { env: {} }));
  assert.throws(
    () => loadDeployment(text('', 'tcp'), { env: {} }),
    /line 9: services\.api\.endpoints\[0\]\.port: public port 80 is already published by services\.web\.endpoints\[0\]/,
  );
});

test('compile without a source still names the field', () => {
  const { spec } = parseDeploymentSpec(
    'version: v1\ndeployment: shop\nservices:\n  api:\n    image: {name: nginx}\n    env: {A: $E:NOPE}\n',
  );
  assert.throws(
    () => compileDeployment(spec, { env: {} }),
    /^DeploymentSpecError: services\.api\.env\.A: \$E:NOPE: the variable NOPE is not set/,
  );
});
