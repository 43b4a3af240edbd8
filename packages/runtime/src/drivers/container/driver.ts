/**
 * The `container` driver: runc with namespaces, cgroups, seccomp and dropped capabilities.
 * Everything but runc's command lines (argv.ts) is the shared OCI driver.
 */
import { OciDriver, type OciDriverOptions } from '../shared/oci-driver.js';
import { runcTool } from './argv.js';

/** runc sandboxes. */
export class ContainerDriver extends OciDriver {
  constructor(options: OciDriverOptions) {
    super(runcTool, options);
  }
}
