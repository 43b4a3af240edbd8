/**
 * This process's network interfaces and their byte counters, from `/proc/net/dev`. Not from
 * `/sys/class/net`: sysfs shows the network namespace it was mounted in, which is not the
 * runtime's own when the agent runs in a namespace of its own without a sysfs of its own (as
 * `nsenter --net` leaves it) — `/proc/net` always follows the reading process's namespace.
 */
import { readFile } from 'node:fs/promises';

/** An interface's counters: bytes it received and sent. */
export interface LinkCounters {
  rxBytes: number;
  txBytes: number;
}

/** Every interface of this process's network namespace, by name. */
export async function readLinks(): Promise<Map<string, LinkCounters>> {
  return parseNetDev(await readFile('/proc/net/dev', 'utf8'));
}

/** The interfaces in the text of `/proc/net/dev` (two header lines, then `name: rx… tx…`). */
export function parseNetDev(text: string): Map<string, LinkCounters> {
  const out = new Map<string, LinkCounters>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    out.set(line.slice(0, colon).trim(), { rxBytes: fields[0] ?? 0, txBytes: fields[8] ?? 0 });
  }
  return out;
}

/** Whether interface `name` exists in this process's network namespace. */
export async function linkExists(name: string): Promise<boolean> {
  return (await readLinks()).has(name);
}
