import { InvalidArgumentError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a human duration (`500ms`, `30s`, `5m`, `1h`, `1m30s`, or a bare number of seconds) to
 * milliseconds. Throws `InvalidArgumentError` naming the accepted forms.
 */
export function parseDurationMs(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== t.length) {
    throw new InvalidArgumentError(
      `invalid duration "${text}": use a number of seconds or units like 500ms, 30s, 5m, 1h`,
    );
  }
  return Math.round(total);
}
