/**
 * YAML (and JSON, which is YAML) text → plain data plus a `SpecSource` that finds the line of
 * any field, through the `yaml` package's Document API: node ranges and a line counter. Shared by
 * the spec parser and the Compose importer. Refuses, naming the line: a syntax error, several
 * documents in one file, a duplicate key, a key that is not plain text.
 */
import {
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';
import { DeploymentSpecError, formatPath, type PathSegment, type SpecSource } from './source.js';

/** The longest file read, in characters (1 Mi): a deployment spec or Compose file is far smaller. */
export const MAX_YAML_CHARS = 1024 * 1024;

/** A parsed YAML file. */
export interface YamlFile {
  /** The data, as `JSON.parse` would give it (anchors and `<<` merge keys resolved). */
  data: unknown;
  /** The file's name and the lines of its fields. */
  source: SpecSource;
}

type Located = { node: unknown; offset: number | null };

function offsetOf(node: unknown): number | null {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : null;
}

/** The child of `node` at `seg` (through aliases and `<<` merge keys), with where its key or item starts. */
function child(doc: Document, node: unknown, seg: PathSegment, depth = 0): Located | null {
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (isMap(target)) {
    for (const pair of target.items) {
      if (isScalar(pair.key) && String(pair.key.value) === String(seg))
        return { node: pair.value, offset: offsetOf(pair.key) };
    }
    if (depth > 8) return null;
    for (const pair of target.items) {
      if (!isScalar(pair.key) || pair.key.value !== '<<') continue;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const s of sources) {
        const found = child(doc, s, seg, depth + 1);
        if (found) return found;
      }
    }
  }
  if (isSeq(target) && typeof seg === 'number') {
    const item = target.items[seg];
    if (item !== undefined) return { node: item, offset: offsetOf(item) };
  }
  return null;
}

function makeSource(doc: Document, lines: LineCounter, file: string | null): SpecSource {
  return {
    file,
    lineOf(path) {
      let node: unknown = doc.contents;
      let offset = offsetOf(node);
      for (const seg of path) {
        const found = child(doc, node, seg);
        if (!found) break;
        node = found.node;
        if (found.offset !== null) offset = found.offset;
      }
      return offset === null ? null : lines.linePos(offset).line;
    },
  };
}

/** The first duplicate or non-text key under `node`, as an error message with its place. */
function badKey(
  node: unknown,
  path: PathSegment[],
  lines: LineCounter,
): { path: string; line: number | null; message: string } | null {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const offset = offsetOf(pair.key);
      const line = offset === null ? null : lines.linePos(offset).line;
      if (!isScalar(pair.key) || pair.key.value === null || typeof pair.key.value === 'object') {
        return { path: formatPath(path), line, message: 'a key must be plain text' };
      }
      const key = String(pair.key.value);
      if (key !== '<<' && seen.has(key)) {
        return {
          path: formatPath([...path, key]),
          line,
          message: `is written twice in the same mapping (duplicate key "${key}")`,
        };
      }
      seen.add(key);
      const inner = badKey(pair.value, [...path, key], lines);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const inner = badKey(item, [...path, i], lines);
      if (inner) return inner;
    }
  }
  return null;
}

/** The first line of a `yaml` error message, without its " at line N, column M" tail. */
function shortMessage(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Parses `text` (YAML or JSON). Throws `DeploymentSpecError` naming the line for a syntax error,
 * a duplicate key or a file over `MAX_YAML_CHARS`.
 */
export function readYaml(text: string, file: string | null): YamlFile {
  const fail = (line: number | null, message: string, path = ''): never => {
    throw new DeploymentSpecError(file, [{ path, line, message }]);
  };
  if (text.length > MAX_YAML_CHARS)
    fail(null, `the file is longer than ${MAX_YAML_CHARS} characters`);
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: false,
    merge: true,
    prettyErrors: true,
  });
  const syntax = doc.errors[0];
  if (syntax)
    fail(syntax.linePos?.[0].line ?? null, `not valid YAML: ${shortMessage(syntax.message)}`);
  const dup = badKey(doc.contents, [], lines);
  if (dup) fail(dup.line, dup.message, dup.path);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    fail(null, `not valid YAML: ${shortMessage((e as Error).message)}`);
  }
  return { data, source: makeSource(doc, lines, file) };
}
