/** How the pages write times, durations and sizes. */

/** A timestamp as local date and time, `-` for none. */
export function dateTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '-';
}

/** Milliseconds as `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`; `-` for none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** How long ago `iso` was, from `nowMs`. */
export function age(iso: string | null | undefined, nowMs: number = Date.now()): string {
  return iso ? `${duration(Math.max(0, nowMs - Date.parse(iso)))} ago` : '-';
}

/** Mebibytes as MiB or GiB. */
export function mebibytes(mib: number): string {
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${Math.round(mib)} MiB`;
}

/** Bytes as B, KiB, MiB or GiB; `-` for none. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A number with at most `digits` decimals. */
export function num(n: number, digits = 2): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** What a run or sandbox runs: its shell command, else its argv. */
export function commandOf(w: { command?: string | undefined; argv?: string[] | undefined }): string {
  return w.command ?? (w.argv ?? []).join(' ');
}
