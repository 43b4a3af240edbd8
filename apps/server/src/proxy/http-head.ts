/**
 * HTTP/1.x heads as the connection tunnel sees them (connection-tunnel.ts): read off a raw socket
 * without consuming what follows, parsed only as far as routing and rewriting need. The parsing
 * and rewriting are pure (http-head.test.ts).
 */
import type { Socket } from 'node:net';

/** A head read off a socket: `raw` is every byte read, the head ends at `end` (-1: no head came). */
export interface RawHead {
  raw: Buffer;
  end: number;
}

/** A request head. */
export interface RequestHead {
  method: string;
  url: string;
  version: string;
  /** In order, names lowercased. */
  fields: [string, string][];
  /** Bytes after the head (the start of a body, or a WebSocket's first frames). */
  rest: Buffer;
}

/**
 * Reads `socket` up to the end of a head (a blank line): what follows in the same chunk is in
 * `raw` past `end`, the rest stays unread in the socket. Gives up (end -1) past `maxBytes`, after
 * `waitMs`, or when the socket ends or closes first.
 */
export function readHead(socket: Socket, maxBytes: number, waitMs: number): Promise<RawHead> {
  return new Promise((resolve) => {
    let raw = Buffer.alloc(0);
    const done = (end: number): void => {
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      resolve({ raw, end });
    };
    const onEnd = (): void => done(-1);
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        raw = Buffer.concat([raw, chunk]);
        const blank = raw.indexOf('\r\n\r\n');
        if (blank >= 0) return done(blank + 4);
        if (raw.length > maxBytes) return done(-1);
      }
    };
    const timer = setTimeout(() => done(-1), waitMs);
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
}

/** The request head of `h`, or null when it is not one. */
export function parseRequestHead(h: RawHead): RequestHead | null {
  if (h.end < 0) return null;
  const [line = '', ...lines] = h.raw.subarray(0, h.end - 4).toString('latin1').split('\r\n');
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(line);
  if (!m) return null;
  const fields: [string, string][] = [];
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i <= 0) return null;
    fields.push([l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()]);
  }
  return { method: m[1] ?? '', url: m[2] ?? '', version: m[3] ?? '', fields, rest: h.raw.subarray(h.end) };
}

/** The status of a response head (`HTTP/1.1 200 OK…`), or null when it is not one. */
export function responseStatus(head: Buffer): number | null {
  const m = /^HTTP\/1\.[01] (\d{3})(?: |\r\n)/.exec(head.subarray(0, 64).toString('latin1'));
  return m ? Number(m[1]) : null;
}

/**
 * A response head that tells the client its connection ends after this response: any
 * `Connection`/`Keep-Alive` fields dropped, `Connection: close` added. `head` ends with its blank line.
 */
export function closingResponseHead(head: Buffer): Buffer {
  const lines = head.subarray(0, head.length - 4).toString('latin1').split('\r\n');
  const kept = lines.filter((l, i) => i === 0 || !/^(connection|keep-alive|proxy-connection)\s*:/i.test(l));
  return Buffer.from(`${[...kept, 'Connection: close'].join('\r\n')}\r\n\r\n`, 'latin1');
}
