/**
 * Output helpers: aligned tables for people, JSON for programs. Every command prints through
 * these so `--json` means the same thing everywhere.
 */

/** One column of a table: its header and how to get the cell text from a row. */
export interface Column<T> {
  header: string;
  get: (row: T) => string | number | null | undefined;
}

/** Prints `value` as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as a left-aligned table with a header line; "(none)" when empty. */
export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((r) => columns.map((c) => cellText(c.get(r))));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  const line = (values: string[]) =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${line(columns.map((c) => c.header.toUpperCase()))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

/** Prints one object as `key: value` lines (nested values as compact JSON). */
export function printObject(obj: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(obj).map((k) => k.length));
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    process.stdout.write(
      `${`${k}:`.padEnd(width + 2)}${typeof v === 'object' && v !== null ? JSON.stringify(v) : cellText(v as string)}\n`,
    );
  }
}

function cellText(v: string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  return String(v);
}

/** "3s ago", "5m ago" for an ISO time; "-" when absent. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export { RUN_PHASES } from '@tartarus/core/base';

/**
 * A phase timeline: each phase that happened, its time since the first and the step since the
 * one before (`+12 ms`, `(3 ms)`), and `-` for one that has not (yet).
 */
export function phaseTimeline(phases: Record<string, string | null>, order: readonly (readonly [string, string])[]): string[] {
  const first = Date.parse(phases[order[0]?.[0] ?? ''] ?? '');
  const width = Math.max(...order.map(([, label]) => label.length));
  let previous = first;
  return order.map(([key, label]) => {
    const at = phases[key];
    if (!at) return `  ${label.padEnd(width)}  -`;
    const t = Date.parse(at);
    const line = `  ${label.padEnd(width)}  +${t - first} ms${t === first ? '' : ` (${t - previous} ms)`}`;
    previous = t;
    return line;
  });
}
