import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildBareQemuArgv,
  buildKernelCmdline,
  buildQemuArgv,
  qemuValue,
  type QemuVmOptions,
} from './argv.js';

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
