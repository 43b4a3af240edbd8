/**
 * Loki's push API, the pure part: which stream (label set) a line goes to, its structured
 * metadata, nanosecond timestamps that never repeat within a stream, the JSON body
 * (`{streams: [{stream, values: [[ns, line, metadata?]]}]}`), and where and how to send it.
 *
 * Labels: `service_name="tartarus"`, `source` (`run`, `sandbox`, `server`), and whichever of
 * `tenant`, `node`, `stream` (a run's stdout/stderr) and `level` (the structured log's) a line
 * has, plus the configured static labels. Run and sandbox ids are labels too (`run`, `sandbox`),
 * as the issue asks, unless `lokiIds` is `metadata`: then they travel as structured metadata and
 * a run does not make a stream of its own.
 */

/** Where a line comes from, as the shipper labels it. */
export interface LineOrigin {
  source: 'run' | 'sandbox' | 'server';
  tenant?: string | undefined;
  run?: string | undefined;
  sandbox?: string | undefined;
  node?: string | undefined;
  /** A run's output stream. */
  stream?: 'stdout' | 'stderr' | undefined;
  /** The structured log's level name. */
  level?: string | undefined;
}

/** How labels are made (from the server's configuration). */
export interface LabelOptions {
  /** `labels`: run and sandbox ids are labels; `metadata`: structured metadata. */
  ids: 'labels' | 'metadata';
  /** Added to every stream (the line's own labels win). */
  staticLabels: Readonly<Record<string, string>>;
}

/** A line's stream and metadata. */
export interface Labelled {
  labels: Record<string, string>;
  /** The stream's identity: its labels, sorted, as one string. */
  key: string;
  metadata: Record<string, string> | undefined;
}

/** The stream and metadata of a line from `origin`. */
export function labelsOf(origin: LineOrigin, options: LabelOptions): Labelled {
  const labels: Record<string, string> = { ...options.staticLabels, service_name: 'tartarus', source: origin.source };
  const put = (into: Record<string, string>, name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') into[name] = value;
  };
  put(labels, 'tenant', origin.tenant);
  put(labels, 'node', origin.node);
  put(labels, 'stream', origin.stream);
  put(labels, 'level', origin.level);
  let metadata: Record<string, string> | undefined;
  if (options.ids === 'labels') {
    put(labels, 'run', origin.run);
    put(labels, 'sandbox', origin.sandbox);
  } else if (origin.run !== undefined || origin.sandbox !== undefined) {
    metadata = {};
    put(metadata, 'run', origin.run);
    put(metadata, 'sandbox', origin.sandbox);
  }
  return { labels, key: streamKey(labels), metadata };
}

/** A label set as one string, the same whatever the order of its keys (`{a="1",b="2"}`). */
export function streamKey(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}

/** The last timestamp given in one stream: ms, and the ns added within that ms. */
interface Stamp {
  ms: number;
  sub: number;
}

/** Streams whose last timestamp is remembered, at most (older ones are forgotten first). */
const MAX_STREAMS = 50_000;

/**
 * Nanosecond timestamps, as Loki wants them (decimal strings), strictly increasing within each
 * stream: lines of one millisecond get +1 ns each (Loki drops a line whose stream, time and text
 * equal another's), and a line older than the stream's last takes the last's time + 1 ns, so a
 * stream never goes back in time.
 */
export class StreamClock {
  private readonly last = new Map<string, Stamp>();

  /** The timestamp of a line of stream `key` written at `atMs` (epoch ms). */
  stamp(key: string, atMs: number): string {
    const prev = this.last.get(key);
    let next: Stamp;
    if (prev === undefined || atMs > prev.ms) next = { ms: Math.trunc(atMs), sub: 0 };
    else next = prev.sub < 999_999 ? { ms: prev.ms, sub: prev.sub + 1 } : { ms: prev.ms + 1, sub: 0 };
    // Least recently stamped first out: a busy stream is never forgotten for a run long gone.
    if (prev !== undefined) this.last.delete(key);
    else if (this.last.size >= MAX_STREAMS) this.last.delete(this.last.keys().next().value ?? '');
    this.last.set(key, next);
    return `${next.ms}${String(next.sub).padStart(6, '0')}`;
  }
}

/** One line ready to push. */
export interface PushLine {
  key: string;
  labels: Record<string, string>;
  /** Nanoseconds since the epoch, decimal. */
  ts: string;
  line: string;
  metadata: Record<string, string> | undefined;
}

/** The push body: one entry per stream, its lines in the order given. */
export function pushBody(lines: readonly PushLine[]): { streams: { stream: Record<string, string>; values: (string | Record<string, string>)[][] }[] } {
  const streams = new Map<string, { stream: Record<string, string>; values: (string | Record<string, string>)[][] }>();
  for (const l of lines) {
    let s = streams.get(l.key);
    if (s === undefined) {
      s = { stream: l.labels, values: [] };
      streams.set(l.key, s);
    }
    s.values.push(l.metadata === undefined ? [l.ts, l.line] : [l.ts, l.line, l.metadata]);
  }
  return { streams: [...streams.values()] };
}

/** Where pushes go and the headers they carry. */
export interface PushTarget {
  url: URL;
  headers: Record<string, string>;
}

/**
 * The push endpoint of `lokiUrl` (`/loki/api/v1/push` added to a base URL) and its headers: the
 * configured ones, and basic auth from `user:password@` (which a request URL must not carry).
 */
export function pushTarget(lokiUrl: string, headers: Readonly<Record<string, string>>): PushTarget {
  const url = new URL(lokiUrl);
  const auth: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    auth['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  if (!url.pathname.endsWith('/loki/api/v1/push')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/loki/api/v1/push`;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { url, headers: { ...auth, ...lower, 'content-type': 'application/json', 'content-encoding': 'gzip' } };
}

/** A chunk of output as lines: split at newlines, the newline not kept; an empty chunk has none. */
export function linesOf(chunk: string): string[] {
  const lines = chunk.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
