/**
 * Resource vectors (cpu, memory, disk) and the arithmetic placement and fair-share need. Pure and
 * allocation-light, because the planner calls these once per node per placement.
 */

/** An amount of each schedulable resource: what work requests, what a node offers or reserves. */
export interface Resources {
  /** Cores, fractional (0.125 is an eighth of a core). */
  cpu: number;
  /** Memory in MiB. */
  memoryMiB: number;
  /** Disk in MiB. */
  diskMiB: number;
}

/** Nothing: the request of work that asks for no reservation, and the start of every sum. */
export const ZERO_RESOURCES: Readonly<Resources> = Object.freeze({
  cpu: 0,
  memoryMiB: 0,
  diskMiB: 0,
});

/**
 * Slack allowed when comparing sums of fractional requests: eight requests of 0.1 cpu add up to
 * 0.7999999999999999, and the ninth must not be refused a node that has 0.9 allocatable for it.
 */
export const RESOURCE_EPSILON = 1e-9;

/** `a + b`, dimension by dimension (a new object). */
export function addResources(a: Readonly<Resources>, b: Readonly<Resources>): Resources {
  return {
    cpu: a.cpu + b.cpu,
    memoryMiB: a.memoryMiB + b.memoryMiB,
    diskMiB: a.diskMiB + b.diskMiB,
  };
}

/** `a - b`, dimension by dimension (a new object; may be negative when `b` exceeds `a`). */
export function subtractResources(a: Readonly<Resources>, b: Readonly<Resources>): Resources {
  return {
    cpu: a.cpu - b.cpu,
    memoryMiB: a.memoryMiB - b.memoryMiB,
    diskMiB: a.diskMiB - b.diskMiB,
  };
}

/** Whether `request` fits in `free` in every dimension (within `RESOURCE_EPSILON`). */
export function fitsWithin(request: Readonly<Resources>, free: Readonly<Resources>): boolean {
  return (
    request.cpu <= free.cpu + RESOURCE_EPSILON &&
    request.memoryMiB <= free.memoryMiB + RESOURCE_EPSILON &&
    request.diskMiB <= free.diskMiB + RESOURCE_EPSILON
  );
}

/**
 * `fitsWithin(request, subtractResources(allocatable, reserved))` without allocating the
 * difference: the planner's inner loop runs it for every node it considers.
 */
export function fitsBeside(
  request: Readonly<Resources>,
  allocatable: Readonly<Resources>,
  reserved: Readonly<Resources>,
): boolean {
  return (
    request.cpu <= allocatable.cpu - reserved.cpu + RESOURCE_EPSILON &&
    request.memoryMiB <= allocatable.memoryMiB - reserved.memoryMiB + RESOURCE_EPSILON &&
    request.diskMiB <= allocatable.diskMiB - reserved.diskMiB + RESOURCE_EPSILON
  );
}

/**
 * The largest fraction `used / total` over the dimensions (0 when nothing is used). A dimension
 * whose total is 0 (or less) is ignored: a cluster that reports no disk cannot be short of it.
 */
export function dominantShare(used: Readonly<Resources>, total: Readonly<Resources>): number {
  let share = 0;
  if (total.cpu > 0) share = Math.max(share, used.cpu / total.cpu);
  if (total.memoryMiB > 0) share = Math.max(share, used.memoryMiB / total.memoryMiB);
  if (total.diskMiB > 0) share = Math.max(share, used.diskMiB / total.diskMiB);
  return share;
}
