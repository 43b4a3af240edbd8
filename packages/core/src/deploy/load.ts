/**
 * Text → plan in one call, for the CLI's `validate` and the server's deployment routes: parse,
 * check and compile, with every error naming the file line.
 */
import type { DeploymentPlan } from './plan.js';
import type { DeploymentSpec } from './spec.js';
import type { SpecIssue } from './source.js';
import { parseDeploymentSpec } from './parse.js';
import { compileDeployment } from './compile.js';

/** Options of `loadDeployment`. */
export interface LoadDeploymentOptions {
  /** The file name used in messages; default none. */
  file?: string;
  /** The deploying environment, read for `$E:NAME` values. */
  env: Readonly<Record<string, string | undefined>>;
}

/** A spec read and compiled. */
export interface LoadedDeployment {
  spec: DeploymentSpec;
  plan: DeploymentPlan;
  /** Fields accepted without effect (see `parseDeploymentSpec`). */
  warnings: SpecIssue[];
}

/** Parses, checks and compiles `text`; throws `DeploymentSpecError` (invalid_argument) naming the field and line. */
export function loadDeployment(text: string, options: LoadDeploymentOptions): LoadedDeployment {
  const parsed = parseDeploymentSpec(
    text,
    options.file === undefined ? {} : { file: options.file },
  );
  const plan = compileDeployment(parsed.spec, { env: options.env, source: parsed.source });
  return { spec: parsed.spec, plan, warnings: parsed.warnings };
}
