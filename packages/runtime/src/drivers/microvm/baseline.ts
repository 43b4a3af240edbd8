/**
 * The benchmark's "bare QEMU": the same kernel, the same virtio modules and the same template
 * disk image as the driver uses, booted straight into a minimal init (guest/bare-init.c) that
 * runs one command and powers off, with no agent, no writable layer and no host supervision.
 * bench/src/microvm.ts times it against the driver; nothing else uses it.
 */
import type { TemplateInfo } from '../../templates/types.js';
import { accelOption, hostTscKhz, resolveAccel, type AccelOption } from './accel.js';
import { buildBareQemuArgv, type Accel } from './argv.js';
import { defaultAssetDir, loadAssets } from './assets.js';
import { ensureTemplateImage } from './image.js';
import { guestMemoryMiB } from './sizing.js';

/** A ready-to-run bare QEMU command line. */
export interface BareBaseline {
  argv: string[];
  accel: Accel;
}

/**
 * The bare QEMU argv that runs `command hi` (absolute path inside the template) on a VM sized
 * like a driver VM with `memoryMiB` (default 512) and `cpus` (default 1).
 */
export async function bareBaseline(
  template: TemplateInfo,
  command: string,
  o: { accel?: AccelOption; assetDir?: string; memoryMiB?: number; cpus?: number } = {},
): Promise<BareBaseline> {
  const assets = await loadAssets(o.assetDir ?? defaultAssetDir());
  const option = accelOption(o.accel);
  const [{ accel }, tscKhz, rootImage] = await Promise.all([
    resolveAccel(option, assets.kernel),
    hostTscKhz(),
    ensureTemplateImage(template, assets.imageDir),
  ]);
  const argv = buildBareQemuArgv(
    {
      accel,
      cpus: o.cpus ?? 1,
      memoryMiB: guestMemoryMiB(o.memoryMiB ?? 512),
      kernel: assets.kernel,
      initramfs: assets.bareInitramfs,
      rootImage,
      tscKhz,
    },
    command,
  );
  return { argv, accel };
}
