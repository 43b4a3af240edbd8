/**
 * Turns a process's output chunks into UTF-8 text messages: one streaming decoder per stream, so
 * a character split across two chunks is not mangled.
 */
import { StringDecoder } from 'node:string_decoder';
import type { OutputChunk } from '@tartarus/runtime';

/** Text output of one process. */
export class TextOutput {
  private readonly decoders = {
    stdout: new StringDecoder('utf8'),
    stderr: new StringDecoder('utf8'),
  };

  constructor(
    private readonly emit: (stream: 'stdout' | 'stderr', text: string, timeMs: number) => void,
  ) {}

  /** Feeds a chunk; emits the complete characters it holds. */
  push(chunk: OutputChunk): void {
    const text = this.decoders[chunk.stream].write(chunk.data);
    if (text !== '') this.emit(chunk.stream, text, chunk.timeMs);
  }

  /** Emits whatever bytes were left incomplete (as replacement characters). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.decoders[stream].end();
      if (rest !== '') this.emit(stream, rest, Date.now());
    }
  }
}
