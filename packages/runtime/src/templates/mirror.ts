/**
 * Which Debian mirror debootstrap uses: the one the host's apt already uses for the suite (a
 * machine behind a proxy or a local mirror keeps working), else Debian's redirector.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Used when the host's apt configuration names no mirror for the suite. */
export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** One `deb` source: its URIs and suites. */
export interface AptSource {
  uris: string[];
  suites: string[];
}

/** Parses one-line `sources.list` text (`deb [options] uri suite components...`). */
export function parseSourcesList(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/#.*/, '')
      .replace(/\[[^\]]*\]/, ' ')
      .trim();
    const [type, uri, suite] = line.split(/\s+/);
    if (type === 'deb' && uri && suite) out.push({ uris: [uri], suites: [suite] });
  }
  return out;
}

/** Parses deb822 `.sources` text (stanzas of `Types:`, `URIs:`, `Suites:`...). */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line.replace(/#.*/, ''));
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    const words = (key: string): string[] => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
    out.push({ uris: words('uris'), suites: words('suites') });
  }
  return out;
}

/** The first mirror among `sources` serving `suite`, or undefined. */
export function pickMirror(sources: AptSource[], suite: string): string | undefined {
  const source = sources.find((s) => s.suites.includes(suite) && s.uris.length > 0);
  return source?.uris[0]?.replace(/\/+$/, '');
}

/** Reads the host's apt sources under `etcApt` (default /etc/apt) and picks the mirror for `suite`. */
export async function hostDebianMirror(suite: string, etcApt = '/etc/apt'): Promise<string> {
  const sources: AptSource[] = [];
  const main = await readFile(join(etcApt, 'sources.list'), 'utf8').catch(() => '');
  sources.push(...parseSourcesList(main));
  const dir = join(etcApt, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    if (name.endsWith('.list')) sources.push(...parseSourcesList(text));
    else if (name.endsWith('.sources')) sources.push(...parseDeb822(text));
  }
  return pickMirror(sources, suite) ?? DEFAULT_DEBIAN_MIRROR;
}
