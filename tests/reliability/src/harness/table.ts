/** The battery's report: one row per scenario, printed as a table at the end. */

/** What one scenario did. */
export interface Row {
  scenario: string;
  /** Runs the platform accepted. */
  accepted: number;
  /** Of those, runs that reached a final state. */
  finished: number;
  /** Accepted runs that were never final, or whose id was lost. */
  lost: number;
  /** Runs committed twice (two attempts that both ended with an exit code), or submissions that made two runs. */
  duplicated: number;
  /** What else it saw, in a few words. */
  notes: string;
  seconds: number;
}

/** The rows as an aligned text table. */
export function formatTable(rows: Row[]): string {
  const head = ['scenario', 'accepted', 'finished', 'lost', 'duplicated', 'seconds', 'notes'];
  const cells = rows.map((r) => [r.scenario, String(r.accepted), String(r.finished), String(r.lost), String(r.duplicated), r.seconds.toFixed(1), r.notes]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
