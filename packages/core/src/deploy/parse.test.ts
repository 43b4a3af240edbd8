// Malformed specs, each refused with one line naming the file, the line and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeploymentSpecError, loadDeployment, parseDeploymentSpec } from './index.js';

/** A spec whose service `api` is `body` (indented under it); `api:` is on line 4, its first field on line 5. */
function spec(body: string, head = 'version: v1\ndeployment: shop\n'): string {
  const indented = body
    .split('\n')
    .map((l) => (l === '' ? l : `    ${l}`))
    .join('\n');
  return `${head}services:\n  api:\n${indented}\n`;
}

const IMAGE = 'image: {name: "nginx:1.25"}';

/** [what, text, line, path, message pattern] */
const CASES: [string, string, number, string, RegExp][] = [
  [
    'a version other than v1',
    spec(IMAGE, 'version: v2\ndeployment: shop\n'),
    1,
    'version',
    /must be v1/,
  ],
  [
    'a deployment name too short',
    spec(IMAGE, 'version: v1\ndeployment: ab\n'),
    2,
    'deployment',
    /3 to 63/,
  ],
  [
    'no services',
    'version: v1\ndeployment: shop\nservices: {}\n',
    3,
    'services',
    /at least one service/,
  ],
  [
    'a service name that is no DNS name',
    'version: v1\ndeployment: shop\nservices:\n  Web_1:\n    image: {name: nginx}\n',
    4,
    'services.Web_1',
    /DNS name/,
  ],
  [
    'an unknown field (upstream refuses it too)',
    spec(`${IMAGE}\nreplica: 2`),
    6,
    'services.api.replica',
    /unknown field \(known fields here: rtype, schedule, image/,
  ],
  [
    'an unknown field in a nested object',
    spec(`${IMAGE}\nscale:\n  mode: fixed\n  replicas: 2\n  burst: 4`),
    9,
    'services.api.scale.burst',
    /unknown field/,
  ],
  ['no image', spec('rtype: service'), 4, 'services.api.image', /is required/],
  [
    'an image reference that is not one',
    spec('image: {name: "Nginx:1.25"}'),
    5,
    'services.api.image.name',
    /lowercase/,
  ],
  [
    'an unknown rtype',
    spec(`rtype: daemon\n${IMAGE}`),
    5,
    'services.api.rtype',
    /must be one of service, job, cron/,
  ],
  [
    'a decimal memory unit',
    spec(`${IMAGE}\nresources:\n  memory: 512M`),
    7,
    'services.api.resources.memory',
    /binary unit.*512M is ambiguous/,
  ],
  [
    'no CPU at all',
    spec(`${IMAGE}\nresources:\n  cpu: 0`),
    7,
    'services.api.resources.cpu',
    /0\.05 to 64/,
  ],
  [
    'an unknown endpoint protocol',
    spec(`${IMAGE}\nendpoints:\n  - name: rpc\n    protocol: grpc\n    port: 9000`),
    8,
    'services.api.endpoints[0].protocol',
    /http, https, tcp, udp, websocket/,
  ],
  [
    'a port out of range',
    spec(`${IMAGE}\nendpoints:\n  - name: web\n    protocol: http\n    port: 70000`),
    9,
    'services.api.endpoints[0].port',
    /1 to 65535/,
  ],
  [
    'zero replicas',
    spec(`${IMAGE}\nscale:\n  mode: fixed\n  replicas: 0`),
    8,
    'services.api.scale.replicas',
    /must be a positive whole number/,
  ],
  [
    'an unknown scale mode',
    spec(`${IMAGE}\nscale:\n  mode: auto`),
    7,
    'services.api.scale.mode',
    /adaptive, fixed, manual/,
  ],
  [
    'scale min above max',
    spec(`${IMAGE}\nscale: {mode: adaptive, min: 5, max: 2}`),
    6,
    'services.api.scale.min',
    /5 is more than max \(2\)/,
  ],
  [
    'a duration without a unit',
    spec(`${IMAGE}\nhealth:\n  interval: 30\n  check: {type: tcp, port: 80}`),
    7,
    'services.api.health.interval',
    /duration with a unit/,
  ],
  [
    'an unknown health check type',
    spec(`${IMAGE}\nhealth:\n  check:\n    type: exec\n    command: [pg_isready]`),
    8,
    'services.api.health.check.type',
    /tcp, http, command/,
  ],
  [
    'an HTTP check of another host',
    spec(`${IMAGE}\nhealth:\n  check: {type: http, url: "http://db:5432/"}`),
    7,
    'services.api.health.check.url',
    /localhost/,
  ],
  [
    'a dependency on no service',
    spec(`${IMAGE}\ndepends:\n  - service: db`),
    7,
    'services.api.depends[0].service',
    /"db" is not a service of this deployment \(services: api\)/,
  ],
  [
    'an unknown dependency condition',
    spec(`${IMAGE}\ndepends:\n  - service: api\n    condition: up`),
    8,
    'services.api.depends[0].condition',
    /started, healthy, ready/,
  ],
  [
    'cron without a schedule',
    spec(`rtype: cron\n${IMAGE}`),
    5,
    'services.api.rtype',
    /cron needs a schedule/,
  ],
  [
    'a schedule on a service',
    spec(`${IMAGE}\nschedule: "0 3 * * *"`),
    6,
    'services.api.schedule',
    /only for rtype: cron/,
  ],
  [
    'a schedule that is not cron',
    spec(`rtype: cron\nschedule: "61 * * * *"\n${IMAGE}`),
    6,
    'services.api.schedule',
    /is not a cron schedule/,
  ],
  [
    'a duplicate key',
    spec(`${IMAGE}\nimage: {name: redis}`),
    6,
    'services.api.image',
    /written twice/,
  ],
  [
    'a cross-service secret',
    spec(`${IMAGE}\nenv:\n  TOKEN: "$S:@auth/jwt"`),
    7,
    'services.api.env.TOKEN',
    /cross-service secrets/,
  ],
  [
    '$E: without a variable name',
    spec(`${IMAGE}\nenv:\n  URL: "$E:1URL"`),
    7,
    'services.api.env.URL',
    /variable name/,
  ],
  [
    'an unknown panic action',
    spec(`${IMAGE}\nerrors:\n  on_panic: {action: explode}`),
    7,
    'services.api.errors.on_panic',
    /restart, shutdown, isolate/,
  ],
  [
    'a privileged service',
    spec(`${IMAGE}\nprivileged: true`),
    6,
    'services.api.privileged',
    /not supported by Tartarus: sandboxes are never privileged/,
  ],
  [
    'storage',
    spec(`${IMAGE}\nstorage:\n  - {type: tmpfs, target: /tmp}`),
    6,
    'services.api.storage',
    /not supported/,
  ],
  [
    'an unknown init action',
    spec(`${IMAGE}\ninit:\n  steps:\n    - id: migrate\n      uses: init.exec`),
    9,
    'services.api.init.steps[0].uses',
    /known: init\.wait_tcp, init\.wait_http, init\.run/,
  ],
  [
    'an init step without its input',
    spec(
      `${IMAGE}\ninit:\n  steps:\n    - id: db\n      uses: init.wait_tcp\n      with: {host: db}`,
    ),
    10,
    'services.api.init.steps[0].with.port',
    /is required by init\.wait_tcp/,
  ],
  [
    'two endpoints with one name',
    spec(
      `${IMAGE}\nendpoints:\n  - {name: web, protocol: http, port: 80}\n  - {name: web, protocol: http, port: 81}`,
    ),
    8,
    'services.api.endpoints[1].name',
    /already the name of endpoints\[0\]/,
  ],
  [
    'two endpoints on one port',
    spec(
      `${IMAGE}\nendpoints:\n  - {name: a, protocol: tcp, port: 80}\n  - {name: b, protocol: http, port: 80}`,
    ),
    8,
    'services.api.endpoints[1].port',
    /80 is already the port of endpoints\[0\] \(a\)/,
  ],
  [
    'a path on a TCP endpoint',
    spec(`${IMAGE}\nendpoints:\n  - {name: a, protocol: tcp, port: 80, path: /x}`),
    7,
    'services.api.endpoints[0].path',
    /only for http, https and websocket/,
  ],
  [
    'an unknown node mode',
    spec(`${IMAGE}\nnode_mode: solo`),
    6,
    'services.api.node_mode',
    /shared, dedicated, exclusive/,
  ],
  [
    'a pull policy on a template',
    spec('image: {name: "template:python", pull_policy: always}'),
    5,
    'services.api.image.pull_policy',
    /no meaning for a template/,
  ],
  [
    'a numeric weekday in a 7-field schedule',
    spec(`rtype: cron\nschedule: "0 0 12 * * 2 *"\n${IMAGE}`),
    6,
    'services.api.schedule',
    /numeric day of week is ambiguous.*MON-FRI/,
  ],
  [
    'a value of the wrong type',
    spec(`${IMAGE}\nendpoints: {name: web}`),
    6,
    'services.api.endpoints',
    /must be a list of endpoints/,
  ],
];

test('each malformed spec is refused with one line naming the file, the line and the field', () => {
  assert.ok(CASES.length >= 20);
  for (const [what, text, line, path, pattern] of CASES) {
    assert.throws(
      () => loadDeployment(text, { file: 'deploy.yaml', env: {} }),
      (e: unknown) => {
        assert.ok(e instanceof DeploymentSpecError, `${what}: ${String(e)}`);
        assert.equal(e.code, 'invalid_argument', what);
        const prefix = `deploy.yaml:${line}: ${path}: `;
        assert.ok(
          e.message.startsWith(prefix),
          `${what}: expected "${prefix}…", got "${e.message}"`,
        );
        assert.match(e.message.slice(prefix.length), pattern, what);
        assert.ok(!e.message.includes('\n'), `${what}: one line`);
        assert.deepEqual(
          { path: e.issues[0]?.path, line: e.issues[0]?.line },
          { path, line },
          what,
        );
        return true;
      },
    );
  }
});

test('YAML that does not parse is refused at its line', () => {
  const text = 'version: v1\ndeployment: shop\nservices:\n  api:\n    image: [name\n';
  assert.throws(
    () => parseDeploymentSpec(text, { file: 'd.yaml' }),
    /^DeploymentSpecError: d\.yaml:\d+: not valid YAML: /,
  );
  assert.throws(
    () => parseDeploymentSpec('version: v1\n---\nversion: v1\n', { file: 'd.yaml' }),
    /d\.yaml:2: not valid YAML: Source contains multiple documents/,
  );
  assert.throws(
    () => parseDeploymentSpec('- a\n- b\n'),
    /^DeploymentSpecError: line 1: a deployment spec is a mapping/,
  );
});

test('every problem is listed in file order; the message is the first', () => {
  const text = spec(`rtype: daemon\n${IMAGE}\nscale: {mode: fixed, replicas: -1}\nextra: 1`);
  try {
    parseDeploymentSpec(text);
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof DeploymentSpecError);
    assert.deepEqual(
      e.issues.map((i) => `${i.line} ${i.path}`),
      ['5 services.api.rtype', '7 services.api.scale.replicas', '8 services.api.extra'],
    );
    assert.match(e.message, /^line 5: services\.api\.rtype: /);
    assert.deepEqual(e.context.issues, e.issues);
  }
});

test('a JSON spec is read like YAML, with its lines', () => {
  const json = JSON.stringify(
    {
      version: 'v1',
      deployment: 'shop',
      services: { api: { image: { name: 'nginx' }, scale: { mode: 'fixed', replicas: 0 } } },
    },
    null,
    2,
  );
  assert.throws(
    () => loadDeployment(json, { file: 'd.json', env: {} }),
    /^DeploymentSpecError: d\.json:11: services\.api\.scale\.replicas: must be a positive whole number/,
  );
});

test('what is accepted without effect comes back as warnings with their lines', () => {
  const text = spec(
    `${IMAGE}\nnetwork:\n  overlays: {service: {enabled: true}}\nnode_selector:\n  labels: {zone: east}\n  prefer_labels: {disk: ssd}\nenv:\n  URL: "postgres://u:$E:PW@db/app"`,
  );
  const { warnings } = parseDeploymentSpec(text);
  assert.deepEqual(
    warnings.map((w) => `${w.line} ${w.path}`),
    [
      '6 services.api.network',
      '10 services.api.node_selector.prefer_labels',
      '12 services.api.env.URL',
    ],
  );
  assert.match(warnings[2]?.message ?? '', /only as the whole value/);
});

test('upstream fields that ask for nothing are accepted', () => {
  const text = spec(
    `${IMAGE}\nprivileged: false\ndevices: []\ncapabilities: []\nstorage: []\nservice_type: standard`,
  );
  assert.doesNotThrow(() => loadDeployment(text, { env: {} }));
});
