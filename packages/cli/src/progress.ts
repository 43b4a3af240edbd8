/**
 * A progress display for long operations (template builds): one redrawn line with a bar on a
 * terminal; plain lines (one per message) when stderr is a file or a pipe, so logs stay readable.
 */

/** What a progress update carries. */
export interface ProgressUpdate {
  phase: string;
  /** 0..1 when known. */
  fraction?: number | undefined;
  message: string;
}

const WIDTH = 24;

/** Renders one progress line (without newline). */
export function progressLine(p: ProgressUpdate): string {
  if (p.fraction === undefined) return `${p.phase}: ${p.message}`;
  const f = Math.min(1, Math.max(0, p.fraction));
  const filled = Math.round(f * WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${p.phase}: ${p.message}`;
}

/** A progress display writing to stderr. */
export class ProgressDisplay {
  private readonly tty = process.stderr.isTTY === true;
  private last = '';

  /** Shows an update. */
  update(p: ProgressUpdate): void {
    const line = progressLine(p);
    if (line === this.last) return;
    this.last = line;
    if (this.tty) {
      const cols = process.stderr.columns || 80;
      process.stderr.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
    } else process.stderr.write(`${line}\n`);
  }

  /** Ends the display (moves past the redrawn line). */
  finish(): void {
    if (this.tty && this.last) process.stderr.write('\n');
  }
}
