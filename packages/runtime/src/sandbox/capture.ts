/**
 * Output capture of one process: keeps stdout and stderr apart, timestamps every chunk as it is
 * read, hands it on at once, and caps each stream. Past the cap the excess is dropped and one
 * marker line is appended (and streamed), so a reader sees where output was cut.
 */
import type { OutputChunk } from '../driver.js';

/** Appended once to a stream that went past its cap. */
export function truncationMarker(limitBytes: number): Buffer {
  return Buffer.from(`\n[tartarus: output truncated after ${limitBytes} bytes]\n`);
}

class StreamCapture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}

  /** Returns what to stream from `data`: the kept part, plus the marker the first time the cap is passed. */
  push(data: Buffer): Buffer[] {
    if (this.truncated) return [];
    const room = this.limit - this.size;
    const kept = data.length > room ? data.subarray(0, room) : data;
    const out: Buffer[] = [];
    if (kept.length > 0) {
      this.chunks.push(kept);
      this.size += kept.length;
      out.push(kept);
    }
    if (kept.length < data.length) {
      this.truncated = true;
      const marker = truncationMarker(this.limit);
      this.chunks.push(marker);
      out.push(marker);
    }
    return out;
  }

  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Captures both streams of one process. */
export class OutputCapture {
  private readonly out: StreamCapture;
  private readonly err: StreamCapture;

  /** @param limitBytes bytes kept per stream (the marker comes on top). */
  constructor(limitBytes: number, private readonly onOutput?: (chunk: OutputChunk) => void) {
    this.out = new StreamCapture(limitBytes);
    this.err = new StreamCapture(limitBytes);
  }

  push(stream: 'stdout' | 'stderr', data: Buffer): void {
    const parts = (stream === 'stdout' ? this.out : this.err).push(data);
    if (!this.onOutput) return;
    const timeMs = Date.now();
    for (const part of parts) {
      try {
        this.onOutput({ stream, data: part, timeMs });
      } catch {
        // A throwing listener must not take the process (or the capture) down with it.
      }
    }
  }

  /** The captured streams so far, with their truncation flags. */
  result(): { stdout: Buffer; stderr: Buffer; stdoutTruncated: boolean; stderrTruncated: boolean } {
    return {
      stdout: this.out.buffer(),
      stderr: this.err.buffer(),
      stdoutTruncated: this.out.truncated,
      stderrTruncated: this.err.truncated,
    };
  }
}
