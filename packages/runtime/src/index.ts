// Public surface of @tartarus/runtime. Each part appends its own export lines.
export type * from './driver.js';
export type * from './templates/types.js';
export * from './process/run.js';
export * from './templates/index.js';
export * from './options.js';
export * from './runtime.js';
export { ContainerDriver } from './drivers/container/index.js';
export { GvisorDriver } from './drivers/gvisor/index.js';
export { OciDriver, type OciDriverOptions } from './drivers/shared/oci-driver.js';
export { MicrovmDriver, bareBaseline, type MicrovmDriverOptions, type AccelOption, type Accel, type BareBaseline } from './drivers/microvm/index.js';
export * from './pool/index.js';
export * from './snapshots/index.js';
export * from './gc/index.js';
export * from './images/index.js';
export { SocketRelays, type RelayTotals, type SocketRelaysOptions } from './network/relay.js';
export { readEgressBytes } from './network/sandbox.js';
