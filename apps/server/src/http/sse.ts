/** Server-sent events: taking over a reply, writing events, noticing the client leave. */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An open event stream. */
export interface SseStream {
  /** Writes one event (with its `id:` line when given, for `Last-Event-ID`); a no-op once the client left. */
  send(event: string, data: unknown, id?: string): void;
  /** Ends the stream. Idempotent. */
  end(): void;
  /** Aborted when the client disconnects (or `end()` is called). */
  readonly signal: AbortSignal;
}

/** Whether the client asked for an event stream. */
export function wantsEventStream(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

/** Takes over the reply and opens an event stream; a comment line every 15 s keeps proxies from timing out. */
export function openSse(req: FastifyRequest, reply: FastifyReply): SseStream {
  const ac = new AbortController();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  const close = () => {
    clearInterval(keepAlive);
    ac.abort();
  };
  req.raw.on('close', close);
  res.on('close', close);
  return {
    signal: ac.signal,
    send(event, data, id) {
      if (ac.signal.aborted || res.writableEnded) return;
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      close();
      if (!res.writableEnded) res.end();
    },
  };
}
