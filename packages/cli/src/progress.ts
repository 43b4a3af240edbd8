/**
 * A progress display for long operations (template builds, image pulls): one redrawn line with a
 * bar on a terminal; plain lines (one per message) when stderr is a file or a pipe, so logs stay
 * readable. An image pull's layers and bytes are shown when the update carries them.
 */

/** What a progress update carries. */
export interface ProgressUpdate {
  phase: string;
  /** 0..1 when known. */
  fraction?: number | undefined;
  message: string;
  /** An image pull: layers and bytes fetched so far, of the total. */
  layersDone?: number | undefined;
  layersTotal?: number | undefined;
  bytesDone?: number | undefined;
  bytesTotal?: number | undefined;
}

const WIDTH = 24;
const MiB = 1024 * 1024;

/** `layers 2/5, 10.5/40.0 MiB` from whichever counts the update has; undefined with none. */
export function countsText(p: ProgressUpdate): string | undefined {
  const parts: string[] = [];
  if (p.layersTotal !== undefined) parts.push(`layers ${p.layersDone ?? 0}/${p.layersTotal}`);
  if (p.bytesTotal !== undefined)
    parts.push(`${((p.bytesDone ?? 0) / MiB).toFixed(1)}/${(p.bytesTotal / MiB).toFixed(1)} MiB`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** Renders one progress line (without newline). */
export function progressLine(p: ProgressUpdate): string {
  const counts = countsText(p);
  const detail =
    counts === undefined || p.message.includes(counts) ? p.message : `${p.message}: ${counts}`;
  if (p.fraction === undefined) return `${p.phase}: ${detail}`;
  const f = Math.min(1, Math.max(0, p.fraction));
  const filled = Math.round(f * WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${p.phase}: ${detail}`;
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
