/**
 * Parsers for flag values, shared by every command. Each throws commander's
 * `InvalidArgumentError`, so a bad value is reported as one usage line (exit 2) naming the flag.
 */
import { InvalidArgumentError as FlagError, type Command } from 'commander';
import { parseDurationMs } from '@tartarus/core/base';

/** `30s`, `500ms`, `5m`, or seconds → milliseconds. */
export function durationFlag(text: string): number {
  try {
    return parseDurationMs(text);
  } catch (e) {
    throw new FlagError((e as Error).message);
  }
}

/** A positive number (fractions allowed), e.g. `--cpu 0.5`. */
export function positiveNumberFlag(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || text.trim() === '')
    throw new FlagError(`"${text}" is not a positive number`);
  return n;
}

/** A positive whole number, e.g. `--memory 512`, `--limit 20`. */
export function positiveIntFlag(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new FlagError(`"${text}" is not a positive whole number`);
  return n;
}

/** A TCP port, 0..65535 (`0`: any free port). */
export function portFlag(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65_535 || text.trim() === '')
    throw new FlagError(`"${text}" is not a port (0..65535)`);
  return n;
}

/** Repeatable `K=V`: collects into a record. */
export function envFlag(
  text: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new FlagError(`"${text}" is not of the form NAME=VALUE`);
  return { ...previous, [text.slice(0, eq)]: text.slice(eq + 1) };
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(choices as readonly string[]).includes(text))
      throw new FlagError(`use one of ${choices.join(', ')}`);
    return text as T;
  };
}

/**
 * An egress policy: `none`, `all`, or destinations separated by commas (IPv4, CIDR or DNS name,
 * each with an optional `:port`), e.g. `pypi.org:443,10.0.0.0/8`. The server checks each entry
 * and answers a bad one with a 400 naming it.
 */
export function egressFlag(text: string): 'none' | 'all' | string[] {
  const t = text.trim();
  if (t === 'none' || t === 'all') return t;
  const entries = t
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0)
    throw new FlagError('give none, all, or destinations separated by commas (IPv4, CIDR or DNS name, each with an optional :port)');
  return entries;
}

/**
 * An egress policy as `egressFlag`, or `unset`: none of the tenant's own (sent as null: the
 * platform's default, no maximum). A word, not null: commander does not keep a parser's null.
 */
export function egressSettingFlag(text: string): 'none' | 'all' | 'unset' | string[] {
  return text.trim() === 'unset' ? 'unset' : egressFlag(text);
}

/** Adds `--json` (machine-readable output) to a command. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print JSON instead of a table');
}

/** Global options every action can read (`--data-dir`). */
export interface GlobalOptions {
  dataDir?: string;
}

/** The options of the command plus the global ones. */
export function allOptions<T>(cmd: Command): T & GlobalOptions {
  return cmd.optsWithGlobals<T & GlobalOptions>();
}
