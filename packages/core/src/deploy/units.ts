/**
 * The value formats of a deployment spec, as ZLayer writes them: durations (`30s`, `1m30s`,
 * `500ms`), memory sizes (`512Mi`, `1Gi`), percentages (`70` or `"70%"`) and the `$E:` / `$S:`
 * environment references. Pure and zod-free: the schema checks with them, `compile` converts with
 * them, and the Compose importer writes what they read.
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** The longest duration a spec may give (30 days), so that a typo cannot mean "forever". */
export const MAX_SPEC_DURATION_MS = 30 * 86_400_000;

/**
 * Milliseconds of a spec duration: one or more `<number><unit>` parts (`30s`, `1m30s`, `1h 30m`,
 * `500ms`; units ms, s, m, h, d and their long names, as ZLayer's humantime reads them), or null
 * when the text is not one. A bare number is refused: upstream needs a unit too.
 */
export function parseSpecDurationMs(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const unit = DURATION_UNITS_MS[m[2] ?? ''];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    end = re.lastIndex;
  }
  if (end !== t.length) return null;
  const ms = Math.round(total);
  return ms <= MAX_SPEC_DURATION_MS ? ms : null;
}

/** A duration in the shortest exact spec form: `1m30s`, `500ms`, `0s`. */
export function formatSpecDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

const MEMORY_UNITS_MIB: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/**
 * MiB of a memory size with a binary unit (`256Ki`, `512Mi`, `1Gi`, `2Ti`, a whole number as
 * upstream requires), rounded up to a whole MiB; null when the text is not one. Decimal units
 * (`512M`) are refused on purpose: Docker reads them as MiB and Kubernetes as 10^6 bytes.
 */
export function parseMemoryMiB(text: string): number | null {
  const m = /^([1-9]\d*)(Ki|Mi|Gi|Ti)$/.exec(text.trim());
  if (!m) return null;
  return Math.ceil(Number(m[1]) * (MEMORY_UNITS_MIB[m[2] ?? ''] ?? 0));
}

/** A percentage from 1 to 100: a number (`70`) or text with a percent sign (`"70%"`); null otherwise. */
export function parsePercent(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*%\s*$/.test(value))
    n = Number.parseFloat(value);
  else return null;
  return Number.isFinite(n) && n >= 1 && n <= 100 ? n : null;
}

/** An environment variable name as `$E:` takes it. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A tenant secret's name (the rule of `/v1/secrets`). */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What an env value written in a spec refers to. */
export type EnvRef =
  | { kind: 'literal'; value: string }
  | { kind: 'env'; name: string }
  | { kind: 'secret'; name: string }
  | { kind: 'invalid'; reason: string };

/**
 * Reads one env value: `$E:NAME` and `$S:name` are references only as the whole value (no
 * interpolation, as upstream says); anything else is literal text.
 */
export function readEnvRef(value: string): EnvRef {
  if (value.startsWith('$E:')) {
    const name = value.slice(3);
    return ENV_NAME.test(name)
      ? { kind: 'env', name }
      : {
          kind: 'invalid',
          reason: `"${value}": $E: must be followed by a variable name only (letters, digits, _), e.g. $E:DATABASE_URL`,
        };
  }
  if (value.startsWith('$S:')) {
    const name = value.slice(3);
    if (name.startsWith('@')) {
      return {
        kind: 'invalid',
        reason: `"${value}": cross-service secrets ($S:@service/name) do not exist in Tartarus: secrets belong to the tenant, use $S:name`,
      };
    }
    return SECRET_NAME.test(name)
      ? { kind: 'secret', name }
      : {
          kind: 'invalid',
          reason: `"${value}": $S: must be followed by a secret name (letters, digits, ".", "_", "-"), e.g. $S:db-password`,
        };
  }
  return { kind: 'literal', value };
}
