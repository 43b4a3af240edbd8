/**
 * Pure builders of the QEMU command line and the guest kernel command line of one microVM.
 * Golden-tested in argv.test.ts; nothing here touches the machine.
 *
 * Why these flags: `-M microvm` has no PCI and no firmware tables beyond a small ACPI DSDT
 * that lists the virtio-mmio devices (the cloud kernel's virtio_mmio module finds them there);
 * `-nodefaults -no-user-config` drops every device we did not ask for; `-no-reboot` plus the
 * kernel's `panic=-1` turns any guest crash into a QEMU exit the driver sees. Under TCG the
 * guest cannot calibrate its TSC against the PIT on a busy host and hangs at boot, so the host
 * tells it the TSC rate (`tsc_early_khz`, the host's own: TCG's rdtsc reads the host TSC).
 * QEMU runs under seccomp (`-sandbox`) and, when the host has the user, as `nobody` after start-up.
 * A VM with a network (network.ts) gets a virtio-net device on the TAP of its sandbox's network
 * namespace, QEMU is started inside that namespace (`nsenter --net`, which execs QEMU: same pid),
 * and the guest's address, gateway and resolver are on its kernel command line (`tt.ip`, `tt.gw`,
 * `tt.dns`: the cloud kernel has no `ip=`; guest/net.c reads them).
 */
import type { VmNetwork } from './network.js';

/** How QEMU runs guest code. */
export type Accel = 'kvm' | 'tcg';

/** Everything one VM's command line depends on, resolved. */
export interface QemuVmOptions {
  /** Sandbox id, used as the VM's name. */
  id: string;
  accel: Accel;
  /** vCPUs (whole, ≥ 1). */
  cpus: number;
  /** Guest RAM in MiB (the sandbox limit plus the guest kernel's own share). */
  memoryMiB: number;
  kernel: string;
  initramfs: string;
  /** The template's ext4 image, attached read-only and shared by every VM of that template. */
  rootImage: string;
  /** This sandbox's writable ext4 layer (size = its disk limit). */
  writableImage: string;
  /** Sockets of the agent's serial ports `agent0`..`agentN-1`. */
  agentSockets: string[];
  qmpSocket: string;
  /** Unix socket QEMU listens on for the serial console; output is dropped while nobody reads it. */
  consoleSocket: string;
  pidFile: string;
  /** Memory limit of the workloads inside the guest, MiB (guest cgroup). */
  workloadMemoryMiB: number;
  /** pids limit of the workloads inside the guest. */
  workloadPids: number;
  /** Host TSC rate for a TCG guest, kHz; ignored under KVM (kvmclock). */
  tscKhz?: number | undefined;
  /** Host user QEMU drops to once its files and sockets are open (`-runas`); undefined keeps root. */
  runAs?: string | undefined;
  /** The VM's network; undefined: loopback only (no NIC at all). */
  network?: VmNetwork | undefined;
}

/** Escapes a value inside a QEMU `-opt key=value,...` list (a comma is doubled). */
export function qemuValue(v: string): string {
  return v.replaceAll(',', ',,');
}

// Shared by the driver's VM and the benchmark's bare VM, so the baseline stays the same machine.
function kernelBaseArgs(o: Pick<QemuVmOptions, 'accel' | 'tscKhz'>): string[] {
  const args = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    'reboot=t',
    'random.trust_cpu=on',
    '8250.nr_uarts=1',
  ];
  if (o.accel === 'tcg' && o.tscKhz)
    args.push(`tsc_early_khz=${Math.round(o.tscKhz)}`, 'no_timer_check');
  return args;
}

function accelArgs(accel: Accel): string[] {
  return accel === 'kvm'
    ? ['-accel', 'kvm', '-cpu', 'host']
    : ['-accel', 'tcg,thread=multi,tb-size=64', '-cpu', 'max'];
}

/** The guest kernel command line. */
export function buildKernelCmdline(o: QemuVmOptions): string {
  const net = o.network
    ? [`tt.ip=${o.network.address}/${o.network.prefix}`, `tt.gw=${o.network.gateway}`, `tt.dns=${o.network.resolver}`]
    : [];
  return [...kernelBaseArgs(o), `tt.mem=${o.workloadMemoryMiB}`, `tt.pids=${o.workloadPids}`, ...net].join(' ');
}

function netArgs(net: VmNetwork | undefined): string[] {
  if (!net) return [];
  // prettier-ignore
  return [
    '-netdev', `tap,id=net0,ifname=${net.tap},script=no,downscript=no`,
    '-device', `virtio-net-device,netdev=net0,mac=${net.mac}`,
  ];
}

/** The QEMU argv (argv[0] included: `nsenter` for a VM with a network, which execs QEMU in its namespace). */
export function buildQemuArgv(o: QemuVmOptions, qemuBinary = 'qemu-system-x86_64'): string[] {
  const accel = accelArgs(o.accel);
  // prettier-ignore
  return [
    ...(o.network ? ['nsenter', `--net=${o.network.netnsPath}`, '--'] : []),
    qemuBinary,
    '-name', `tt-${o.id}`,
    '-M', 'microvm',
    ...accel,
    '-smp', String(o.cpus),
    '-m', `${o.memoryMiB}M`,
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    // seccomp; set*id stays allowed because -runas needs it, and after it QEMU has no privilege to regain.
    '-sandbox', `on,obsolete=deny,elevateprivileges=${o.runAs ? 'allow' : 'deny'},spawn=deny,resourcecontrol=deny`,
    '-kernel', o.kernel,
    '-initrd', o.initramfs,
    '-append', buildKernelCmdline(o),
    // A socket, not a file: what the guest writes to its console is dropped unless the host is
    // reading (during boot), so a workload cannot fill a host disk through it.
    '-chardev', `socket,id=console,path=${qemuValue(o.consoleSocket)},server=on,wait=off`,
    '-serial', 'chardev:console',
    '-drive', `file=${qemuValue(o.rootImage)},format=raw,if=none,id=root,readonly=on`,
    '-device', 'virtio-blk-device,drive=root,serial=root',
    '-drive', `file=${qemuValue(o.writableImage)},format=raw,if=none,id=rw,cache=unsafe`,
    '-device', 'virtio-blk-device,drive=rw,serial=rw',
    '-device', `virtio-serial-device,max_ports=${o.agentSockets.length + 1}`,
    ...o.agentSockets.flatMap((path, i) => [
      '-chardev', `socket,id=agent${i},path=${qemuValue(path)},server=on,wait=off`,
      '-device', `virtserialport,chardev=agent${i},name=agent${i},nr=${i + 1}`,
    ]),
    ...netArgs(o.network),
    '-qmp', `unix:${qemuValue(o.qmpSocket)},server=on,wait=off`,
    '-pidfile', o.pidFile,
    ...(o.runAs ? ['-runas', o.runAs] : []),
  ];
}

/** QEMU argv of the benchmark's baseline: same kernel and modules, the bare init, output on stdio. */
export function buildBareQemuArgv(
  o: Pick<
    QemuVmOptions,
    'accel' | 'cpus' | 'memoryMiB' | 'kernel' | 'initramfs' | 'rootImage' | 'tscKhz'
  >,
  command: string,
  qemuBinary = 'qemu-system-x86_64',
): string[] {
  const accel = accelArgs(o.accel);
  // prettier-ignore
  return [
    qemuBinary,
    '-M', 'microvm',
    ...accel,
    '-smp', String(o.cpus),
    '-m', `${o.memoryMiB}M`,
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-kernel', o.kernel,
    '-initrd', o.initramfs,
    '-append', [...kernelBaseArgs(o), `tt.bare=${command}`].join(' '),
    '-serial', 'stdio',
    '-drive', `file=${qemuValue(o.rootImage)},format=raw,if=none,id=root,readonly=on`,
    '-device', 'virtio-blk-device,drive=root,serial=root',
  ];
}
