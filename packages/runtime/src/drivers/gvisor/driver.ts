/**
 * The `gvisor` driver: runsc, whose user-space kernel answers the workload's syscalls so that
 * they never reach the host kernel. Shares everything but runsc's command lines (argv.ts) with
 * the container driver.
 */
import { OciDriver, type OciDriverOptions } from '../shared/oci-driver.js';
import { runscTool } from './argv.js';

/** runsc sandboxes. */
export class GvisorDriver extends OciDriver {
  constructor(options: OciDriverOptions) {
    super(runscTool, options);
  }
}
