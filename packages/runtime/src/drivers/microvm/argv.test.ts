import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildBareQemuArgv,
  buildKernelCmdline,
  buildQemuArgv,
  qemuValue,
  type QemuVmOptions,
} from './argv.js';
import { guestMac, tapScripts } from './network.js';

const base: QemuVmOptions = {
  id: 'sb-1',
  accel: 'tcg',
  cpus: 2,
  memoryMiB: 576,
  kernel: '/k/vmlinuz',
  initramfs: '/k/initramfs.cpio',
  rootImage: '/img/busybox-abc.ext4',
  writableImage: '/s/sb-1/rw.ext4',
  agentSockets: ['/s/sb-1/a0.sock', '/s/sb-1/a1.sock'],
  qmpSocket: '/s/sb-1/q.sock',
  consoleSocket: '/s/sb-1/c.sock',
  pidFile: '/s/sb-1/qemu.pid',
  workloadMemoryMiB: 512,
  workloadPids: 256,
  tscKhz: 2_400_000,
};

test('TCG: software emulation flags, host TSC rate on the kernel command line', () => {
  // prettier-ignore
  assert.deepEqual(buildQemuArgv(base), [
    'qemu-system-x86_64',
    '-name', 'tt-sb-1',
    '-M', 'microvm',
    '-accel', 'tcg,thread=multi,tb-size=64', '-cpu', 'max',
    '-smp', '2',
    '-m', '576M',
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-kernel', '/k/vmlinuz',
    '-initrd', '/k/initramfs.cpio',
    '-append', 'console=ttyS0 quiet panic=-1 reboot=t random.trust_cpu=on 8250.nr_uarts=1 tsc_early_khz=2400000 no_timer_check tt.mem=512 tt.pids=256',
    // Issue 16: the console is a socket read during boot only (was a file without a size cap).
    '-chardev', 'socket,id=console,path=/s/sb-1/c.sock,server=on,wait=off',
    '-serial', 'chardev:console',
    '-drive', 'file=/img/busybox-abc.ext4,format=raw,if=none,id=root,readonly=on',
    '-device', 'virtio-blk-device,drive=root,serial=root',
    '-drive', 'file=/s/sb-1/rw.ext4,format=raw,if=none,id=rw,cache=unsafe',
    '-device', 'virtio-blk-device,drive=rw,serial=rw',
    '-device', 'virtio-serial-device,max_ports=3',
    '-chardev', 'socket,id=agent0,path=/s/sb-1/a0.sock,server=on,wait=off',
    '-device', 'virtserialport,chardev=agent0,name=agent0,nr=1',
    '-chardev', 'socket,id=agent1,path=/s/sb-1/a1.sock,server=on,wait=off',
    '-device', 'virtserialport,chardev=agent1,name=agent1,nr=2',
    '-qmp', 'unix:/s/sb-1/q.sock,server=on,wait=off',
    '-pidfile', '/s/sb-1/qemu.pid',
  ]);
});

test('QEMU drops to an unprivileged host user when one is given', () => {
  const argv = buildQemuArgv({ ...base, runAs: 'nobody' });
  assert.deepEqual(argv.slice(-2), ['-runas', 'nobody']);
  assert.ok(
    argv.includes('on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny'),
  );
});

test('KVM: host CPU, no TSC hint (kvmclock)', () => {
  const argv = buildQemuArgv({ ...base, accel: 'kvm' });
  assert.deepEqual(argv.slice(5, 9), ['-accel', 'kvm', '-cpu', 'host']);
  assert.equal(
    buildKernelCmdline({ ...base, accel: 'kvm' }),
    'console=ttyS0 quiet panic=-1 reboot=t random.trust_cpu=on 8250.nr_uarts=1 tt.mem=512 tt.pids=256',
  );
});

test('a comma in a path is escaped inside QEMU option lists', () => {
  assert.equal(qemuValue('/a,b/c'), '/a,,b/c');
  const argv = buildQemuArgv({ ...base, writableImage: '/s,x/rw.ext4' });
  assert.ok(argv.includes('file=/s,,x/rw.ext4,format=raw,if=none,id=rw,cache=unsafe'));
});

test('bare baseline: same kernel, initramfs and template disk; output on stdio; the command on the command line', () => {
  // prettier-ignore
  assert.deepEqual(buildBareQemuArgv({ ...base, initramfs: '/k/bare.cpio' }, '/bin/echo'), [
    'qemu-system-x86_64',
    '-M', 'microvm',
    '-accel', 'tcg,thread=multi,tb-size=64', '-cpu', 'max',
    '-smp', '2',
    '-m', '576M',
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-kernel', '/k/vmlinuz',
    '-initrd', '/k/bare.cpio',
    '-append', 'console=ttyS0 quiet panic=-1 reboot=t random.trust_cpu=on 8250.nr_uarts=1 tsc_early_khz=2400000 no_timer_check tt.bare=/bin/echo',
    '-serial', 'stdio',
    '-drive', 'file=/img/busybox-abc.ext4,format=raw,if=none,id=root,readonly=on',
    '-device', 'virtio-blk-device,drive=root,serial=root',
  ]);
});

test('a VM with a network: QEMU execs in its namespace, virtio-net on the tap, the address on the kernel command line', () => {
  const network = {
    uidBase: 268435456,
    netnsPath: '/run/tartarus/netns/sb-1',
    tap: 'tap0',
    mac: guestMac('sb-1'),
    address: '10.89.0.7',
    prefix: 16,
    gateway: '10.89.0.1',
    resolver: '10.89.0.1',
  };
  const argv = buildQemuArgv({ ...base, network });
  assert.deepEqual(argv.slice(0, 4), ['nsenter', '--net=/run/tartarus/netns/sb-1', '--', 'qemu-system-x86_64']);
  assert.deepEqual(argv.slice(argv.indexOf('-netdev'), argv.indexOf('-qmp')), [
    '-netdev', 'tap,id=net0,ifname=tap0,script=no,downscript=no',
    '-device', `virtio-net-device,netdev=net0,mac=${guestMac('sb-1')}`,
  ]);
  assert.match(
    buildKernelCmdline({ ...base, network }),
    / tt\.mem=512 tt\.pids=256 tt\.ip=10\.89\.0\.7\/16 tt\.gw=10\.89\.0\.1 tt\.dns=10\.89\.0\.1$/,
  );
  assert.ok(!buildQemuArgv(base).includes('-netdev'), 'no network: no NIC');
});

test('the tap belongs to the VM\'s uid and is joined to eth0 by tc redirects both ways; the MAC is local and per id', () => {
  assert.deepEqual(tapScripts(268435456), {
    ip: 'tuntap add dev tap0 mode tap user 268435456 group 268435456\nlink set tap0 up\n',
    tc: [
      'qdisc add dev eth0 ingress',
      'filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev tap0',
      'qdisc add dev tap0 ingress',
      'filter add dev tap0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev eth0',
      '',
    ].join('\n'),
  });
  assert.match(guestMac('sb-1'), /^02(:[0-9a-f]{2}){5}$/);
  assert.notEqual(guestMac('sb-1'), guestMac('sb-2'));
});
