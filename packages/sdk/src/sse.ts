/**
 * A small Server-Sent Events reader. Hand-rolled (about 40 lines) rather than a dependency: the
 * server is ours and sends only `event:` and `data:` fields, so the whole of the format we need is
 * "split on blank lines, join data lines" — less code to audit than a package's glue.
 */
import { UnavailableError } from './errors.js';

/** One event: its name (`message` when the server gives none) and its data, JSON-decoded. */
export interface SseEvent {
  /** The `event:` field. */
  event: string;
  /** The `data:` lines joined with `\n`, parsed as JSON (the raw string when it is not JSON). */
  data: unknown;
  /** The `id:` field, when the server gave one (resume after it with `Last-Event-ID`). */
  id?: string;
}

function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return undefined;
  const text = data.join('\n');
  const withId = id === undefined ? {} : { id };
  try {
    return { event, data: JSON.parse(text) as unknown, ...withId };
  } catch {
    return { event, data: text, ...withId };
  }
}

/** The body's chunks; a connection lost mid-stream becomes an `UnavailableError` (an abort stays an abort). */
async function* chunks(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') throw e;
    throw new UnavailableError(`the server closed the stream (${(e as Error).message})`, {
      cause: e,
    });
  }
}

/** Yields the events of an SSE response body as they arrive; ends when the server closes it. */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of chunks(body)) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.search(/\r?\n\r?\n/);
    while (end >= 0) {
      const sep = /\r?\n\r?\n/.exec(buffer.slice(end)) as RegExpExecArray;
      const ev = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + sep[0].length);
      if (ev) yield ev;
      end = buffer.search(/\r?\n\r?\n/);
    }
  }
  const last = parseBlock(buffer + decoder.decode());
  if (last) yield last;
}
