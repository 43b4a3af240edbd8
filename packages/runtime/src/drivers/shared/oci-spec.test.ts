import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOciConfig, buildOciProcess, DEFAULT_CAPABILITIES } from './oci-spec.js';
import { goldenInput } from './oci-spec.fixture.js';
import { DENIED_SYSCALLS, seccompProfile } from './seccomp.js';


test('process: a non-root user holds no capability; env is exactly the given one', () => {
  const p = buildOciProcess(goldenInput.process);
  assert.deepEqual(p, {
    terminal: false,
    user: { uid: 1000, gid: 1000 },
    args: ['sh', '-c', 'echo hi'],
    env: ['PATH=/bin', 'A=b=c'],
    cwd: '/home/sandbox',
    capabilities: { bounding: [...DEFAULT_CAPABILITIES], effective: [], permitted: [], inheritable: [], ambient: [] },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  });
  const root = buildOciProcess({ ...goldenInput.process, user: { uid: 0, gid: 0, additionalGids: [10] } });
  assert.deepEqual(root.capabilities.effective, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(root.user, { uid: 0, gid: 0, additionalGids: [10] });
  assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_NET_RAW') && !DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN'));
});

test('config: namespaces, limits, seccomp, masked paths, helper mount (golden)', () => {
  const c = buildOciConfig(goldenInput);
  assert.deepEqual(c.root, { path: '/state/gvisor/a/rootfs', readonly: false });
  assert.deepEqual(c.linux.namespaces.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount']);
  assert.deepEqual(c.linux.resources?.cpu, { quota: 50_000, period: 100_000 });
  assert.deepEqual(c.linux.resources?.memory, { limit: 512 * 1024 * 1024, swap: 512 * 1024 * 1024 });
  assert.deepEqual(c.linux.resources?.pids, { limit: 256 });
  assert.equal(c.linux.cgroupsPath, '/tartarus/a/c');
  assert.deepEqual(c.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/dev/.tartarus']);
  assert.deepEqual(c.mounts.at(-1), { destination: '/dev/.tartarus', type: 'bind', source: '/native/build/sandbox', options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  assert.ok(c.linux.maskedPaths.includes('/proc/kcore') && c.linux.readonlyPaths.includes('/proc/sys'));
  // The profile is applied by tt-init to each workload (compiled once, seccomp-bpf.ts), not by runc.
  assert.equal(c.linux.seccomp, undefined);
  const seccomp = seccompProfile();
  // Issue 16 turned the denylist into a default-deny allowlist (seccomp.test.ts has its golden).
  assert.equal(seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  for (const s of ['mount', 'unshare', 'setns', 'bpf', 'kexec_load', 'init_module', 'ptrace', 'keyctl', 'perf_event_open', 'reboot', 'swapon']) {
    assert.ok(DENIED_SYSCALLS.includes(s), s);
  }
  assert.deepEqual(seccomp?.syscalls.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  assert.equal(seccomp?.syscalls.filter((r) => r.names[0] === 'clone').length, 1);
});

test('no memsw on a host without swap accounting', () => {
  assert.deepEqual(buildOciConfig({ ...goldenInput, swapAccounting: false }).linux.resources?.memory, { limit: 512 * 1024 * 1024 });
});

test('a tiny CPU share still gets a valid quota (≥ 1 ms per period)', () => {
  assert.equal(buildOciConfig({ ...goldenInput, limits: { ...goldenInput.limits, cpu: 0.001 } }).linux.resources?.cpu?.quota, 1000);
  assert.equal(buildOciConfig({ ...goldenInput, limits: { ...goldenInput.limits, cpu: 2 } }).linux.resources?.cpu?.quota, 200_000);
});
