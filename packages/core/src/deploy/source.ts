/**
 * Where a field of a spec was written, and the error that names it. Every refusal of a spec, by
 * the schema, a cross-field check or `$E:` resolution, is one `DeploymentSpecError` whose message
 * is one line: `deploy.yaml:12: services.api.scale.replicas: must be a positive whole number`.
 */
import { InvalidArgumentError } from '../errors.js';

/** One step of a field path: a mapping key or a list index. */
export type PathSegment = string | number;

/** Where a spec was read from: its file name (for messages) and the line of any field in it. */
export interface SpecSource {
  /** The file name as the user gave it, or null (an API body). */
  file: string | null;
  /** The 1-based line where `path` is written, or that of its nearest written ancestor; null when unknown. */
  lineOf(path: readonly PathSegment[]): number | null;
}

/** `services.api.endpoints[0].port`: keys joined by dots, indices in brackets. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** `file:line: ` / `line N: ` / `` — the prefix of a message about a place in a spec. */
export function placePrefix(file: string | null, line: number | null): string {
  if (line === null) return file === null ? '' : `${file}: `;
  return file === null ? `line ${line}: ` : `${file}:${line}: `;
}

/** A problem found in a spec (or a warning about one), with where it is. */
export interface SpecIssue {
  /** The field path, e.g. `services.api.scale.replicas`. */
  path: string;
  /** 1-based line in the file, or null when unknown. */
  line: number | null;
  /** What is wrong and what to write instead. */
  message: string;
}

/** The one-line form of an issue: `file:line: path: message`. */
export function formatIssue(file: string | null, issue: SpecIssue): string {
  return `${placePrefix(file, issue.line)}${issue.path === '' ? '' : `${issue.path}: `}${issue.message}`;
}

/**
 * Thrown when a deployment spec (or a Compose file being imported) is refused. The message is the
 * first problem in file order, on one line naming the field and its line; `issues` has them all.
 * An `invalid_argument` error: a 400 from the API, exit status 2 from the CLI.
 */
export class DeploymentSpecError extends InvalidArgumentError {
  /** Every problem found, in file order (the message is the first). */
  readonly issues: SpecIssue[];
  /** The file name the spec was read from, or null. */
  readonly file: string | null;

  constructor(file: string | null, issues: SpecIssue[]) {
    const first = issues[0] ?? { path: '', line: null, message: 'the spec is invalid' };
    super(formatIssue(file, first), {
      context: { file, path: first.path, line: first.line, issues },
    });
    this.issues = issues;
    this.file = file;
  }
}

/** A source that knows no lines (a spec built in code). */
export function sourceWithoutLines(file: string | null = null): SpecSource {
  return { file, lineOf: () => null };
}

/** The issue at `path` of `source`, with its line looked up. */
export function issueAt(
  source: SpecSource,
  path: readonly PathSegment[],
  message: string,
): SpecIssue {
  return { path: formatPath(path), line: source.lineOf(path), message };
}

/** Throws the `DeploymentSpecError` for one problem at `path`. */
export function refuse(source: SpecSource, path: readonly PathSegment[], message: string): never {
  throw new DeploymentSpecError(source.file, [issueAt(source, path, message)]);
}
