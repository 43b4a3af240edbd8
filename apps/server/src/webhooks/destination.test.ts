// The destination rules of webhook deliveries, as a table; the check at create time; the lookup
// that refuses a name resolving to a refused address; and signatures the SDK's helper verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { InvalidArgumentError, parseWebhookSignature, verifyWebhookSignature } from '@tartarus/core';
import { checkWebhookUrl, embeddedIpv4, guardedLookup, refusal, type DestinationPolicy } from './destination.js';
import { signWebhook } from './deliver.js';

const NONE: DestinationPolicy = { allowed: [], listenHost: '127.0.0.1' };

test('refused and allowed addresses, each with the rule that decides', () => {
  const table: [string, string | null, DestinationPolicy?][] = [
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.89.0.5', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['100.100.100.200', 'shared'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    // IPv4 inside IPv6 is judged as the IPv4 address.
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['not-an-address', 'reserved'],
    // Public unicast addresses pass.
    ['93.184.216.34', null],
    ['172.32.0.1', null],
    ['2606:2800:220:1:248:1893:25c8:1946', null],
    ['::ffff:93.184.216.34', null],
    // An operator's allowed range passes despite the rules; nothing else is opened by it.
    ['127.0.0.1', null, { allowed: ['127.0.0.1/32'], listenHost: '127.0.0.1' }],
    ['::ffff:127.0.0.1', null, { allowed: ['127.0.0.1/32'], listenHost: '127.0.0.1' }],
    ['127.0.0.2', 'loopback', { allowed: ['127.0.0.1/32'], listenHost: '127.0.0.1' }],
    ['10.1.2.3', null, { allowed: ['10.0.0.0/8'], listenHost: '127.0.0.1' }],
    ['169.254.169.254', 'link-local', { allowed: ['10.0.0.0/8'], listenHost: '127.0.0.1' }],
    // The server's own listen address, even a public one.
    ['93.184.216.34', 'this-host', { allowed: [], listenHost: '93.184.216.34' }],
  ];
  const wrong: string[] = [];
  for (const [address, rule, policy] of table) {
    const got = refusal(address, policy ?? NONE);
    if ((got?.rule ?? null) !== rule) wrong.push(`${address}: ${got?.rule ?? 'allowed'}, want ${rule ?? 'allowed'}`);
    if (got !== null && !got.message.includes(address)) wrong.push(`${address}: message ${got.message} does not name it`);
  }
  assert.deepEqual(wrong, []);
  assert.equal(embeddedIpv4('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(embeddedIpv4('2001:db8::1'), undefined);
});

test("every address of the host's own interfaces is refused", () => {
  const own = Object.values(networkInterfaces()).flatMap((l) => l ?? []);
  assert.ok(own.length > 0);
  for (const a of own) assert.notEqual(refusal(a.address.replace(/%.*$/, ''), NONE), null, a.address);
});

test('a webhook URL is refused at create with a 400 naming the rule', async () => {
  const refused: [string, RegExp][] = [
    ['http://169.254.169.254/latest/meta-data/', /refused \(link-local\).*cloud metadata/],
    ['http://127.0.0.1:7070/v1/runs', /refused \(loopback\)/],
    ['http://[::1]/', /refused \(loopback\)/],
    ['http://localhost:8080/hook', /refused \(loopback\)/],
    ['http://api.localhost/hook', /refused \(loopback\)/],
    ['https://2130706433/', /127\.0\.0\.1 is refused \(loopback\)/],
    ['http://10.89.0.2:8000/', /refused \(private\)/],
  ];
  for (const [url, says] of refused) {
    await assert.rejects(checkWebhookUrl(url, NONE), (err: unknown) => err instanceof InvalidArgumentError && says.test(err.message) && /webhookAllowedDestinations/.test(err.message), url);
  }
  await checkWebhookUrl('https://93.184.216.34/hook', NONE);
  await checkWebhookUrl('http://127.0.0.1:9/hook', { allowed: ['127.0.0.1/32'], listenHost: '127.0.0.1' });
  // A name that does not resolve now is checked again at delivery.
  await checkWebhookUrl('https://no-such-host.invalid/hook', NONE);
});

test('the connection lookup refuses a name that resolves to a refused address, and connects to a checked one', async () => {
  const post = (policy: DestinationPolicy) =>
    new Promise<string>((resolve) => {
      const req = request({ host: 'localhost', port: 9, method: 'POST', lookup: guardedLookup(policy) });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
  assert.equal(await post(NONE), 'EDESTREFUSED');
  // Allowed, the same lookup passes and the connection itself is refused (nothing listens on port 9).
  assert.equal(await post({ allowed: ['127.0.0.1/32'], listenHost: '127.0.0.1' }), 'ECONNREFUSED');
});

test('a signature verifies with the SDK helper; a tampered body, another secret or an old timestamp does not', async () => {
  const body = '{"id":"42","type":"run.finished"}';
  const now = Date.now();
  const header = signWebhook('whsec_test', body, now);
  assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(await verifyWebhookSignature(body, header, 'whsec_test'), true);
  assert.equal(await verifyWebhookSignature(new TextEncoder().encode(body), header, 'whsec_test'), true);
  assert.equal(await verifyWebhookSignature(body.replace('42', '43'), header, 'whsec_test'), false);
  assert.equal(await verifyWebhookSignature(body, header, 'whsec_other'), false);
  assert.equal(await verifyWebhookSignature(body, header, 'whsec_test', 300, now + 301_000), false);
  assert.equal(await verifyWebhookSignature(body, 't=1,v1=zz', 'whsec_test'), false);
  assert.equal(await verifyWebhookSignature(body, undefined, 'whsec_test'), false);
  // During a secret rotation a header may carry several v1 values: any one matching is enough.
  const both = `${header},v1=${'0'.repeat(64)}`;
  assert.equal(parseWebhookSignature(both)?.v1.length, 2);
  assert.equal(await verifyWebhookSignature(body, both, 'whsec_test'), true);
});
