/**
 * A configuration schema's options as command-line flags and environment variables: every key
 * of a zod object schema is `--kebab-case` and `TARTARUS_SNAKE_CASE` (unless renamed), its text
 * converted by the field's own type. The server and the agent read their whole configuration this
 * way, so no option exists in the schema without a flag and a variable, and the configuration
 * reference (docs/reference/configuration.md) lists the same names.
 */
import type { z } from 'zod';
import { InvalidArgumentError } from './errors.js';

/** How an option's text becomes its value. */
export type OptionKind = 'number' | 'boolean' | 'string' | 'list' | 'map' | 'json';

/** One option of a schema, as flag and variable. */
export interface ConfigOption {
  /** The schema's key, e.g. `cpuOvercommit`. */
  key: string;
  /** Without the dashes, e.g. `cpu-overcommit`. */
  flag: string;
  /** E.g. `TARTARUS_CPU_OVERCOMMIT`. */
  env: string;
  kind: OptionKind;
  /** The type for people: `number`, `boolean`, `text`, `binpack | spread`, `list`, `K=V list`, `JSON`. */
  type: string;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string>;
}

const defOf = (t: z.ZodType): Def => (t as unknown as { _zod: { def: Def } })._zod.def;

/** The field's type under its defaults, optionals, nullables and transforms. */
function bare(t: z.ZodType): z.ZodType {
  const d = defOf(t);
  if (d.type === 'default' || d.type === 'optional' || d.type === 'nullable' || d.type === 'prefault') return bare(d.innerType as z.ZodType);
  if (d.type === 'pipe') return bare(d.in as z.ZodType);
  return t;
}

/** Whether values of `t` are written as plain text (a string, a number, a word of an enum). */
function scalar(t: z.ZodType): boolean {
  const d = defOf(bare(t));
  if (d.type === 'union') return (d.options ?? []).some(scalar);
  return d.type === 'string' || d.type === 'number' || d.type === 'enum';
}

function kindOf(t: z.ZodType): { kind: OptionKind; type: string } {
  const d = defOf(bare(t));
  switch (d.type) {
    case 'number':
      return { kind: 'number', type: 'number' };
    case 'boolean':
      return { kind: 'boolean', type: 'boolean' };
    case 'enum':
      return { kind: 'string', type: Object.values(d.entries ?? {}).join(' | ') };
    case 'array':
      return scalar(d.element as z.ZodType) ? { kind: 'list', type: 'list (comma-separated)' } : { kind: 'json', type: 'JSON' };
    case 'record':
      return { kind: 'map', type: 'K=V list (comma-separated)' };
    default:
      return scalar(t) ? { kind: 'string', type: 'text' } : { kind: 'json', type: 'JSON' };
  }
}

/** The options of `schema`, in its order; `names` renames a flag or variable kept from before (or says the type of one read by a parser of its own). */
export function configOptions(
  schema: z.ZodObject,
  names: Record<string, { flag?: string; env?: string; type?: string }> = {},
): ConfigOption[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, t]) => {
    // `memoryMiB` is memory-mib: a unit is one word.
    const words = key.replaceAll('MiB', 'Mib').replace(/([a-z0-9])([A-Z])/g, '$1_$2');
    return {
      key,
      flag: names[key]?.flag ?? words.toLowerCase().replaceAll('_', '-'),
      env: names[key]?.env ?? `TARTARUS_${words.toUpperCase()}`,
      ...kindOf(t),
      ...(names[key]?.type === undefined ? {} : { type: names[key].type }),
    };
  });
}

/** The flags of `options` as `node:util` parseArgs takes them. */
export function parseArgsOptions(options: ConfigOption[]): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(options.map((o) => [o.flag, { type: o.kind === 'boolean' ? 'boolean' : 'string' }]));
}

function convert(o: ConfigOption, where: string, text: string): unknown {
  switch (o.kind) {
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${where} must be a number, got "${text}"`);
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes)$/i.test(text)) return true;
      if (/^(0|false|no)$/i.test(text)) return false;
      throw new InvalidArgumentError(`${where} must be 1 or 0 (true or false), got "${text}"`);
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'map': {
      const entries = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const bad = entries.find((e) => e.indexOf('=') <= 0);
      if (bad !== undefined) throw new InvalidArgumentError(`${where}: "${bad}" is not KEY=VALUE (write K=V,K2=V2)`);
      return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    }
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new InvalidArgumentError(`${where} must be JSON, got "${text}"`);
      }
    default:
      return text;
  }
}

/**
 * The schema's input from flags (parsed by parseArgs) over environment variables: only what is
 * set, converted by each option's kind; `parsers` replaces the conversion of a key. A value that
 * cannot be converted throws InvalidArgumentError naming the flag or variable.
 */
export function readConfigSources(
  options: ConfigOption[],
  flags: Record<string, string | boolean | undefined>,
  env: Record<string, string | undefined>,
  parsers: Record<string, (text: string) => unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of options) {
    const flag = flags[o.flag];
    const envText = env[o.env];
    if (flag === undefined && (envText === undefined || envText === '')) continue;
    if (typeof flag === 'boolean') {
      out[o.key] = flag;
      continue;
    }
    const [where, text] = flag !== undefined ? [`--${o.flag}`, flag] : [o.env, envText ?? ''];
    const parse = parsers[o.key];
    out[o.key] = parse ? parse(text) : convert(o, where, text);
  }
  return out;
}
