import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSse, type SseEvent } from './sse.js';
import { UnavailableError } from './errors.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
}

async function collect(chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of readSse(streamOf(chunks))) out.push(ev);
  return out;
}

test('events split across chunks, comments, CRLF and multi-line data are read as the format says', async () => {
  const events = await collect([
    ': keep-alive\n\nevent: stdout\nda',
    'ta: {"data":"hi\\n","encoding":"utf8","timeMs":1}\n\r\n',
    'event: note\ndata: line one\ndata: line two\n\n',
    'data: {"last":true}',
  ]);
  assert.deepEqual(events, [
    { event: 'stdout', data: { data: 'hi\n', encoding: 'utf8', timeMs: 1 } },
    { event: 'note', data: 'line one\nline two' },
    { event: 'message', data: { last: true } },
  ]);
});

test('a multi-byte character split between chunks is decoded whole', async () => {
  const bytes = new TextEncoder().encode('data: "é"\n\n');
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes.slice(0, 7));
      c.enqueue(bytes.slice(7));
      c.close();
    },
  });
  const out: SseEvent[] = [];
  for await (const ev of readSse(stream)) out.push(ev);
  assert.deepEqual(out, [{ event: 'message', data: 'é' }]);
});

test('a connection lost mid-stream is an UnavailableError after the events already read', async () => {
  const enc = new TextEncoder();
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulls++ === 0) c.enqueue(enc.encode('event: log\ndata: 1\n\n'));
      else c.error(new TypeError('terminated'));
    },
  });
  const seen: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const ev of readSse(stream)) seen.push(ev.data);
    })(),
    (e: unknown) => e instanceof UnavailableError && /terminated/.test(e.message),
  );
  assert.deepEqual(seen, [1]);
});
