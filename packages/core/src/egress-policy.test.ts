// A tenant's maxEgress: which policies it covers, the defaults work gets under it, and the 400s
// (naming the entry) for asking for more, or for a network on a runtime without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkEgressWithin,
  checkTenantNetworkPolicy,
  defaultEgress,
  egressCovers,
  egressNotCovered,
} from './egress-policy.js';
import { compileRun, compileSandbox } from './workload/compile.js';
import { InvalidArgumentError } from './errors.js';
import { CreateSandboxRequestSchema, SubmitRunRequestSchema } from './api/index.js';
import type { Egress } from './network.js';

test('none is within every maximum; all only within all', () => {
  const maxima: Egress[] = ['none', 'all', ['10.0.0.0/8']];
  for (const max of maxima) assert.equal(egressNotCovered(max, 'none'), null);
  assert.equal(egressNotCovered('all', 'all'), null);
  assert.equal(egressNotCovered('all', ['pypi.org']), null);
  assert.equal(egressNotCovered(['10.0.0.0/8'], 'all'), 'all');
  assert.equal(egressNotCovered('none', ['10.0.0.1']), '10.0.0.1');
});

test('an address or CIDR is covered by a CIDR containing it, on a compatible port', () => {
  const max = ['10.0.0.0/8', '192.168.1.0/24:443', '0.0.0.0/0:53'];
  const covered = [
    '10.1.2.3',
    '10.1.0.0/16',
    '10.0.0.0/8:5432',
    '192.168.1.7:443',
    '192.168.1.128/25:443',
    '8.8.8.8:53',
  ];
  for (const e of covered) assert.ok(egressCovers(max, [e]), e);
  // Wider than the CIDR, outside it, a port the max does not allow, or every port where it allows one.
  const notCovered = [
    '10.0.0.0/7',
    '11.0.0.1',
    '192.168.1.7:80',
    '192.168.1.7',
    '192.168.0.0/16:443',
    '8.8.8.8',
  ];
  for (const e of notCovered) assert.equal(egressNotCovered(max, [e]), e);
  // The first entry not covered is the one named.
  assert.equal(egressNotCovered(max, ['10.1.1.1', '11.1.1.1', '12.1.1.1']), '11.1.1.1');
});

test('a name is covered only by the same name (with a compatible port), never by a CIDR', () => {
  const max = ['pypi.org', 'files.pythonhosted.org:443', '0.0.0.0/0'];
  assert.ok(egressCovers(max, ['PyPI.org:443', 'pypi.org', 'files.pythonhosted.org:443']));
  assert.equal(egressNotCovered(max, ['files.pythonhosted.org']), 'files.pythonhosted.org');
  assert.equal(egressNotCovered(max, ['example.com']), 'example.com');
  // A name in the max does not cover an address, whatever it resolves to.
  assert.equal(egressNotCovered(['pypi.org'], ['151.101.0.223']), '151.101.0.223');
});

test('asking for more than maxEgress is a 400 naming the entry and the maximum', () => {
  assert.doesNotThrow(() => checkEgressWithin('all', null));
  assert.throws(
    () => checkEgressWithin('all', ['10.0.0.0/8']),
    (e: unknown) =>
      e instanceof InvalidArgumentError &&
      /egress "all" is more than this tenant's maxEgress \["10\.0\.0\.0\/8"\] allows/.test(
        e.message,
      ),
  );
  assert.throws(
    () => checkEgressWithin(['10.0.0.1', 'x.org'], ['10.0.0.0/8'], 'network policy "p"'),
    /network policy "p" entry "x\.org" is more than/,
  );
  assert.throws(
    () => checkEgressWithin(['10.0.0.1'], 'none'),
    /may not reach the network: give egress "none"/,
  );
});

test('a tenant default beyond its own maximum is refused; defaults are cut down to the maximum', () => {
  assert.throws(
    () =>
      checkTenantNetworkPolicy({
        defaultSandboxEgress: 'all',
        defaultRunEgress: null,
        maxEgress: ['10.0.0.0/8'],
      }),
    /defaultSandboxEgress "all" is more than maxEgress/,
  );
  assert.doesNotThrow(() =>
    checkTenantNetworkPolicy({
      defaultSandboxEgress: ['10.1.0.0/16'],
      defaultRunEgress: 'none',
      maxEgress: ['10.0.0.0/8'],
    }),
  );
  assert.equal(defaultEgress('all', null, null), 'all');
  assert.deepEqual(defaultEgress('all', null, ['10.0.0.0/8']), ['10.0.0.0/8']);
  assert.equal(defaultEgress('none', null, ['10.0.0.0/8']), 'none');
  assert.deepEqual(defaultEgress('all', ['10.1.0.0/16'], ['10.0.0.0/8']), ['10.1.0.0/16']);
});

test('compile: defaults (sandbox all, run none, the tenant’s), a named policy, the maximum', () => {
  assert.equal(compileSandbox({}, null).egress, 'all');
  assert.equal(compileRun({ argv: ['x'] }, null).egress, 'none');
  const tenant = {
    defaultSandboxEgress: null,
    defaultRunEgress: ['10.0.0.0/8:443'],
    maxEgress: ['10.0.0.0/8'],
  };
  assert.deepEqual(compileSandbox({}, null, { tenant }).egress, ['10.0.0.0/8']);
  assert.deepEqual(compileRun({ argv: ['x'] }, null, { tenant }).egress, ['10.0.0.0/8:443']);
  const policy = { name: 'web', egress: ['10.2.0.0/16'] };
  assert.deepEqual(compileSandbox({ networkPolicy: 'web' }, null, { tenant, policy }).egress, [
    '10.2.0.0/16',
  ]);
  assert.throws(
    () => compileSandbox({ egress: 'all' }, null, { tenant }),
    /egress "all" is more than this tenant's maxEgress/,
  );
  assert.throws(
    () =>
      compileRun({ argv: ['x'], networkPolicy: 'web' }, null, {
        tenant,
        policy: { name: 'web', egress: ['11.0.0.1'] },
      }),
    /network policy "web" entry "11\.0\.0\.1"/,
  );
  assert.throws(
    () => compileSandbox({ egress: 'all', networkPolicy: 'web' }, null, { policy }),
    /at most one of egress and networkPolicy/,
  );
});

test('schemas: egress or networkPolicy, not both', () => {
  const both = CreateSandboxRequestSchema.safeParse({ egress: 'all', networkPolicy: 'web' });
  assert.match(both.error?.issues[0]?.message ?? '', /at most one of egress .* and networkPolicy/);
  assert.equal(
    SubmitRunRequestSchema.safeParse({ argv: ['x'], egress: 'none', networkPolicy: 'web' }).success,
    false,
  );
  assert.equal(CreateSandboxRequestSchema.safeParse({ networkPolicy: 'Web!' }).success, false);
  assert.equal(CreateSandboxRequestSchema.safeParse({ networkPolicy: 'web' }).success, true);
});
