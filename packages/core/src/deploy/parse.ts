/**
 * Spec text (YAML or JSON) → a checked `DeploymentSpec`. Every refusal is a `DeploymentSpecError`
 * naming the field path and its line (`deploy.yaml:12: services.api.scale.replicas: must be a
 * positive whole number`); the first problem in file order is the message, all of them are in
 * `issues`. Things that are accepted but have no effect come back as warnings, located the same way.
 */
import type { z } from 'zod';
import { DeploymentSpecSchema, type DeploymentSpec } from './spec.js';
import {
  DeploymentSpecError,
  issueAt,
  type PathSegment,
  type SpecIssue,
  type SpecSource,
} from './source.js';
import { readYaml } from './yaml-source.js';

/** A spec read from text. */
export interface ParsedDeploymentSpec {
  /** The spec as written, checked field by field (no defaults applied: see `compileDeployment`). */
  spec: DeploymentSpec;
  /** Where it came from: give it to `compileDeployment` so that its errors name lines too. */
  source: SpecSource;
  /** Fields accepted but without effect in Tartarus, and `$E:`/`$S:` left as literal text. */
  warnings: SpecIssue[];
}

/** Options of `parseDeploymentSpec`. */
export interface ParseSpecOptions {
  /** The file name used in messages (`deploy.yaml:12: …`); default none (`line 12: …`). */
  file?: string;
}

const KIND_WORDS: Record<string, string> = {
  object: 'a mapping (field: value lines)',
  array: 'a list',
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
};

/** The words of one zod issue, in the spec's terms. */
function wordsFor(iss: z.core.$ZodIssue): string {
  const input = (iss as { input?: unknown }).input;
  if (
    iss.code === 'invalid_union' &&
    'discriminator' in iss &&
    typeof iss.discriminator === 'string'
  ) {
    const missing =
      typeof input !== 'object' ||
      input === null ||
      (input as Record<string, unknown>)[iss.discriminator] === undefined;
    return missing ? `is required: ${iss.message}` : iss.message;
  }
  if (iss.code === 'invalid_key') return iss.issues[0]?.message ?? iss.message;
  if (input === undefined) return 'is required';
  if (input === null)
    return `is empty: ${iss.message.startsWith('Invalid input') ? 'give a value' : iss.message}`;
  if (iss.code === 'invalid_type' && iss.message.startsWith('Invalid input')) {
    return `must be ${KIND_WORDS[iss.expected] ?? iss.expected}`;
  }
  return iss.message;
}

function pathOf(iss: z.core.$ZodIssue): PathSegment[] {
  return iss.path.filter((p): p is string | number => typeof p !== 'symbol');
}

/** Zod's issues → spec issues with lines, one per unknown key, in file order. */
function toIssues(issues: readonly z.core.$ZodIssue[], source: SpecSource): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const iss of issues) {
    const path = pathOf(iss);
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) out.push(issueAt(source, [...path, key], iss.message));
    } else {
      out.push(issueAt(source, path, wordsFor(iss)));
    }
  }
  return out.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

const EMBEDDED_REF = /.\$[ES]:/s;

/** What the spec says that Tartarus accepts but does not act on. */
function warningsFor(spec: DeploymentSpec, source: SpecSource): SpecIssue[] {
  const out: SpecIssue[] = [];
  if (spec.api !== undefined)
    out.push(issueAt(source, ['api'], "ignored: it configures ZLayer's own API server"));
  for (const [name, svc] of Object.entries(spec.services)) {
    const at = (...rest: PathSegment[]) => ['services', name, ...rest];
    if (svc.network !== undefined) {
      out.push(
        issueAt(
          source,
          at('network'),
          "ignored: ZLayer's overlay and join settings have no effect in Tartarus",
        ),
      );
    }
    if (
      svc.node_selector?.prefer_labels !== undefined &&
      Object.keys(svc.node_selector.prefer_labels).length > 0
    ) {
      out.push(
        issueAt(
          source,
          at('node_selector', 'prefer_labels'),
          'ignored: Tartarus places replicas by the required labels only',
        ),
      );
    }
    for (const [key, value] of Object.entries(svc.env ?? {})) {
      if (typeof value === 'string' && EMBEDDED_REF.test(value)) {
        out.push(
          issueAt(
            source,
            at('env', key),
            '$E: and $S: are read only as the whole value: here they stay literal text',
          ),
        );
      }
    }
  }
  return out.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

/**
 * Parses and checks a spec. Throws `DeploymentSpecError` (an `InvalidArgumentError`) for YAML
 * that does not parse, a duplicate key, an unknown field or a value of the wrong form.
 */
export function parseDeploymentSpec(
  text: string,
  options: ParseSpecOptions = {},
): ParsedDeploymentSpec {
  const file = options.file ?? null;
  const { data, source } = readYaml(text, file);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new DeploymentSpecError(file, [
      {
        path: '',
        line: source.lineOf([]),
        message: 'a deployment spec is a mapping with version: v1, deployment and services',
      },
    ]);
  }
  const parsed = DeploymentSpecSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) throw new DeploymentSpecError(file, toIssues(parsed.error.issues, source));
  return { spec: parsed.data, source, warnings: warningsFor(parsed.data, source) };
}
