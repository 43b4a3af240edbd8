import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EgressSchema, parseEgressRule } from './network.js';

test('egress entries: IPv4, CIDR, DNS names, each with an optional port', () => {
  assert.deepEqual(parseEgressRule('10.1.2.3'), { kind: 'cidr', cidr: '10.1.2.3/32', port: null });
  assert.deepEqual(parseEgressRule('10.1.0.0/16:5432'), { kind: 'cidr', cidr: '10.1.0.0/16', port: 5432 });
  assert.deepEqual(parseEgressRule('PyPI.org.'), { kind: 'name', name: 'pypi.org', port: null });
  assert.deepEqual(parseEgressRule('files.pythonhosted.org:443'), { kind: 'name', name: 'files.pythonhosted.org', port: 443 });
});

test('bad egress entries say what to write instead', () => {
  assert.throws(() => parseEgressRule('10.1.2.3/16'), /host bits set: write 10\.1\.0\.0\/16/);
  assert.throws(() => parseEgressRule('10.1.2.300'), /not an IPv4 address/);
  assert.throws(() => parseEgressRule('10.1.2.3:0'), /bad port: give 1\.\.65535/);
  assert.throws(() => parseEgressRule('10.1.0.0/33'), /bad prefix/);
  assert.throws(() => parseEgressRule('[::1]:80'), /IPv6 egress rules are not supported/);
  assert.throws(() => parseEgressRule('bad_name!'), /neither an IPv4 address, a CIDR nor a DNS name/);
});

test('the schema: none, all, or a list of 1..256 valid entries', () => {
  assert.equal(EgressSchema.parse('none'), 'none');
  assert.deepEqual(EgressSchema.parse(['pypi.org:443']), ['pypi.org:443']);
  for (const bad of ['some', [], ['10.0.0.1/8']]) {
    const r = EgressSchema.safeParse(bad);
    assert.equal(r.success, false, JSON.stringify(bad));
  }
  assert.match(EgressSchema.safeParse(['10.0.0.1/8']).error?.issues[0]?.message ?? '', /egress entry "10\.0\.0\.1\/8" has host bits set/);
});
