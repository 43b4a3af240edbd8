// Golden input shared by the config tests of every OCI driver (test data, not used at run time).
import type { OciConfigInput } from './oci-spec.js';

/** The input the golden cases of every driver's argv tests use. */
export const goldenInput: OciConfigInput = {
  rootfsPath: '/state/gvisor/a/rootfs',
  hostname: 'a',
  process: { args: ['sh', '-c', 'echo hi'], env: { PATH: '/bin', A: 'b=c' }, cwd: '/home/sandbox', user: { uid: 1000, gid: 1000, additionalGids: [] } },
  limits: { cpu: 0.5, memoryMiB: 512, pids: 256, diskMiB: 1024 },
  cgroupsPath: '/tartarus/a/c',
  helperDir: '/native/build/sandbox',
  helperMount: '/dev/.tartarus',
  annotations: { 'dev.tartarus.sandbox': 'a' },
};
