// The nftables scripts are pure: golden-tested here, applied for real by network.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkConfig } from './config.js';
import { addSandboxRules, baseRules, groupPairLines, chainName, denyElements, removeSandboxRules, setSandboxEgress, vethName, widenSandboxEgress } from './rules.js';

const cfg = networkConfig({ pool: '10.89.0.0/16', bridge: 'tt0', dnsUpstream: ['192.0.2.53'], deny: ['192.0.2.10:8080', '198.51.100.0/24'] }, {});

test('config: gateway, size and deny list from the pool; bad values name what to change', () => {
  assert.equal(cfg.gateway, '10.89.0.1');
  assert.equal(cfg.size, 65533);
  assert.deepEqual(cfg.deny, [{ kind: 'cidr', cidr: '192.0.2.10/32', port: 8080 }, { kind: 'cidr', cidr: '198.51.100.0/24', port: null }]);
  assert.throws(() => networkConfig({ pool: '10.89.0.1/16' }, {}), /host bits set: write 10\.89\.0\.0\/16/);
  assert.throws(() => networkConfig({ pool: '10.0.0.0/30' }, {}), /\/8\.\.\/28/);
  assert.throws(() => networkConfig({ bridge: 'a-bridge-name-too-long' }, {}), /1\.\.15/);
  assert.throws(() => networkConfig({ deny: ['example.com'] }, {}), /not a name/);
  assert.throws(() => networkConfig({ nameRefreshMs: 5 }, {}), /nameRefreshMs 5: give a whole number of ms, at least 100/);
  assert.equal(cfg.nameRefreshMs, 60_000);
  assert.equal(networkConfig({}, { TARTARUS_NET_POOL: '172.30.0.0/24' }).gateway, '172.30.0.1');
});

test('names: derived from the sandbox id, within the kernel limits', () => {
  assert.equal(vethName('sbx_abc'), vethName('sbx_abc'));
  assert.notEqual(vethName('sbx_abc'), vethName('sbx_abd'));
  assert.ok(vethName('x'.repeat(63)).length <= 15);
  assert.match(chainName('sbx_abc'), /^sb_[0-9a-f]{16}$/);
});

test('base rules (golden)', () => {
  assert.equal(
    baseRules(cfg),
    `add table inet tartarus
add set inet tartarus denied { type ipv4_addr; flags interval; auto-merge; }
add set inet tartarus denied_ports { type ipv4_addr . inet_service; flags interval; }
add map inet tartarus egress { type ipv4_addr : verdict; }
add set inet tartarus group_addrs { type ipv4_addr . ipv4_addr; }
add chain inet tartarus forward { type filter hook forward priority filter - 10; policy accept; }
add chain inet tartarus input { type filter hook input priority filter - 10; policy accept; }
add chain inet tartarus postrouting { type nat hook postrouting priority srcnat; policy accept; }
add chain inet tartarus from_sandbox
add chain inet tartarus to_host
flush chain inet tartarus forward
flush chain inet tartarus input
flush chain inet tartarus postrouting
flush chain inet tartarus from_sandbox
flush chain inet tartarus to_host
add rule inet tartarus forward iifname "tt0" jump from_sandbox
add rule inet tartarus forward oifname "tt0" ct state established,related accept
add rule inet tartarus forward oifname "tt0" drop
add rule inet tartarus from_sandbox ip saddr . ip daddr @group_addrs accept
flush set inet tartarus denied
flush set inet tartarus denied_ports
add element inet tartarus denied { 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4, 240.0.0.0/4, 10.89.0.0/16 }
add element inet tartarus denied { 198.51.100.0/24 }
add element inet tartarus denied_ports { 192.0.2.10/32 . 8080 }
add rule inet tartarus from_sandbox ip daddr @denied drop
add rule inet tartarus from_sandbox meta l4proto { tcp, udp } ip daddr . th dport @denied_ports drop
add rule inet tartarus from_sandbox ip saddr vmap @egress
add rule inet tartarus from_sandbox drop
add rule inet tartarus input iifname "tt0" jump to_host
add rule inet tartarus to_host ct state established,related accept
add rule inet tartarus to_host ip daddr 10.89.0.1 meta l4proto { tcp, udp } th dport 53 accept
add rule inet tartarus to_host drop
add rule inet tartarus postrouting ip saddr 10.89.0.0/16 oifname != "tt0" masquerade
add table bridge tartarus
add set bridge tartarus ports { type ifname . ipv4_addr; }
add set bridge tartarus group_ports { type ifname . ifname; }
add chain bridge tartarus forward { type filter hook forward priority filter; policy accept; }
add chain bridge tartarus input { type filter hook input priority filter; policy accept; }
flush chain bridge tartarus forward
flush chain bridge tartarus input
add rule bridge tartarus forward iifname . oifname @group_ports accept
add rule bridge tartarus forward iifname "tv*" drop
add rule bridge tartarus input iifname "tv*" ether type ip iifname . ip saddr != @ports drop
add rule bridge tartarus input iifname "tv*" ether type arp iifname . arp saddr ip != @ports drop
add rule bridge tartarus input iifname "tv*" ether type ip6 drop
`,
  );
});

test('the deny list is added element by element, less what is denied anyway or by a wider entry (golden)', () => {
  assert.equal(
    denyElements(cfg),
    'add element inet tartarus denied { 198.51.100.0/24 }\nadd element inet tartarus denied_ports { 192.0.2.10/32 . 8080 }\n',
  );
  // A control plane on loopback is denied anyway; entries inside wider ones go.
  const more = networkConfig({ dnsUpstream: [], deny: ['127.0.0.1:7070', '10.89.0.5:80', '192.0.2.10:8080', '192.0.2.0/24:8080', '192.0.2.0/24'] }, {});
  assert.equal(denyElements(more), 'add element inet tartarus denied { 192.0.2.0/24 }\n');
  assert.equal(denyElements(networkConfig({ dnsUpstream: [], deny: ['127.0.0.1:7070'] }, {})), '');
});

test('a sandbox: its chain per policy, its map entry and port address; policy changes in one transaction; removal line by line (golden)', () => {
  const chain = chainName('sbx_1');
  const veth = vethName('sbx_1');
  const list = [{ cidr: '198.18.0.2/32', port: 8080 }, { cidr: '198.18.1.0/24', port: null }];
  assert.equal(
    addSandboxRules({ id: 'sbx_1', address: '10.89.0.7', egress: list }),
    `add chain inet tartarus ${chain}
flush chain inet tartarus ${chain}
add rule inet tartarus ${chain} ip daddr 198.18.0.2/32 meta l4proto { tcp, udp } th dport 8080 accept
add rule inet tartarus ${chain} ip daddr 198.18.1.0/24 accept
add rule inet tartarus ${chain} drop
add element inet tartarus egress { 10.89.0.7 : jump ${chain} }
add element bridge tartarus ports { "${veth}" . 10.89.0.7 }
`,
  );
  assert.equal(setSandboxEgress('sbx_1', 'all'), `flush chain inet tartarus ${chain}\nadd rule inet tartarus ${chain} accept\n`);
  assert.equal(setSandboxEgress('sbx_1', 'none'), `flush chain inet tartarus ${chain}\nadd rule inet tartarus ${chain} drop\n`);
  // From `none` (a pooled sandbox's drop alone): only added before the drop, never flushed.
  assert.equal(widenSandboxEgress('sbx_1', 'all'), `insert rule inet tartarus ${chain} accept\n`);
  assert.equal(widenSandboxEgress('sbx_1', 'none'), '');
  assert.equal(
    widenSandboxEgress('sbx_1', list),
    `insert rule inet tartarus ${chain} ip daddr 198.18.0.2/32 meta l4proto { tcp, udp } th dport 8080 accept\ninsert rule inet tartarus ${chain} ip daddr 198.18.1.0/24 accept\n`,
  );
  assert.deepEqual(removeSandboxRules('sbx_1', '10.89.0.7'), [
    'delete element inet tartarus egress { 10.89.0.7 }',
    `delete chain inet tartarus ${chain}`,
    `delete element bridge tartarus ports { "${veth}" . 10.89.0.7 }`,
  ]);
});

test('a named group: frames and packets allowed both ways between the new member and each other (golden)', () => {
  assert.deepEqual(groupPairLines('add', { veth: 'tvaaaaaaaaaaaaa', address: '10.89.0.2' }, [{ veth: 'tvbbbbbbbbbbbbb', address: '10.89.0.3' }]), [
    'add element bridge tartarus group_ports { "tvaaaaaaaaaaaaa" . "tvbbbbbbbbbbbbb" }',
    'add element bridge tartarus group_ports { "tvbbbbbbbbbbbbb" . "tvaaaaaaaaaaaaa" }',
    'add element inet tartarus group_addrs { 10.89.0.2 . 10.89.0.3 }',
    'add element inet tartarus group_addrs { 10.89.0.3 . 10.89.0.2 }',
  ]);
  assert.deepEqual(groupPairLines('delete', { veth: 'tva', address: '10.89.0.2' }, []), []);
});
