/**
 * The port tunnel between the server's proxy and an agent's node proxy: the server opens a TCP
 * connection to the address the agent advertised in its `hello` (`capabilities.proxy`), sends one
 * line naming the sandbox and port with the secret the agent gave in the same `hello`, and reads
 * one line back; after `OK` the connection carries the client's bytes to the sandbox's port and
 * back, untouched (HTTP, WebSocket, SSE alike). Pure; both ends use it.
 *
 *   → `TTPROXY/1 <secret> <sandboxId> <port>[ direct]\n`
 *   ← `OK\n` | `DIRECT <address>\n` | `ERR <httpStatus> <message>\n`
 *
 * `direct`: the server runs on the node itself (the node proxy's address is loopback), so it can
 * reach the sandbox's network: the node proxy checks the request as always, then answers with the
 * sandbox's address instead of relaying, and the server connects there itself (one hop fewer).
 */

/** Longest request or reply line, bytes. */
export const TUNNEL_LINE_MAX = 1024;

/** What a tunnel asks for. */
export interface TunnelRequest {
  secret: string;
  sandboxId: string;
  port: number;
  /** Answer with the sandbox's address instead of relaying (the client is on the node). */
  direct?: boolean;
}

/** The request line. */
export function formatTunnelRequest(r: TunnelRequest): string {
  return `TTPROXY/1 ${r.secret} ${r.sandboxId} ${r.port}${r.direct ? ' direct' : ''}\n`;
}

/** Parses a request line (without its newline), or null when it is not one. */
export function parseTunnelRequest(line: string): TunnelRequest | null {
  const m = /^TTPROXY\/1 (\S+) ([a-z0-9_-]{1,128}) (\d{1,5})( direct)?$/.exec(line);
  const port = Number(m?.[3]);
  if (!m || !(port >= 1 && port <= 65535)) return null;
  return { secret: m[1] ?? '', sandboxId: m[2] ?? '', port, ...(m[4] ? { direct: true } : {}) };
}

/** The reply line: `OK`, the sandbox's address (`direct`), or an error with the HTTP status the proxy should answer. */
export function formatTunnelReply(error?: { status: number; message: string }, direct?: string): string {
  if (error) return `ERR ${error.status} ${error.message.replace(/\s+/g, ' ')}\n`;
  return direct === undefined ? 'OK\n' : `DIRECT ${direct}\n`;
}

/** Parses a reply line (without its newline). */
export function parseTunnelReply(line: string): { ok: true; direct?: string } | { ok: false; status: number; message: string } {
  if (line === 'OK') return { ok: true };
  const d = /^DIRECT (\d{1,3}(\.\d{1,3}){3})$/.exec(line);
  if (d) return { ok: true, direct: d[1] ?? '' };
  const m = /^ERR (\d{3}) (.*)$/.exec(line);
  return m ? { ok: false, status: Number(m[1]), message: m[2] ?? '' } : { ok: false, status: 502, message: `the node's proxy answered ${JSON.stringify(line.slice(0, 80))}` };
}

/**
 * Reads one `\n`-terminated line from the start of a stream, then hands the stream over with
 * whatever came after the line pushed back (read in paused mode, so nothing is lost before the
 * next reader attaches; a `data` listener or `pipe` then starts it). Rejects past
 * `TUNNEL_LINE_MAX` or at the end.
 */
export function readTunnelLine(stream: NodeJS.ReadableStream & { unshift(chunk: Buffer): void }): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      stream.removeListener('readable', onReadable);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onEnd);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('the tunnel closed before its first line'));
    };
    const onReadable = (): void => {
      for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) {
        buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
        const nl = buf.indexOf(10);
        if (nl >= 0) {
          cleanup();
          const rest = buf.subarray(nl + 1);
          if (rest.length > 0) stream.unshift(rest);
          resolve(buf.subarray(0, nl).toString('utf8'));
          return;
        }
        if (buf.length > TUNNEL_LINE_MAX) {
          cleanup();
          reject(new Error('the tunnel line is too long'));
          return;
        }
      }
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onEnd);
  });
}
