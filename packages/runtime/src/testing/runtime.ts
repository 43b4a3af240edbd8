/**
 * A Runtime for tests: a fresh temp state dir, the shared persistent template cache
 * (`$TARTARUS_TEMPLATE_DIR` or /var/cache/tartarus/templates, so templates are built once per
 * machine, not per test), and a `dispose()` that destroys whatever the test left and removes
 * the state dir. Other packages' tests (server, e2e) use it through `@tartarus/runtime/testing`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, type RuntimeOptions } from '../runtime.js';
import { defaultTemplateDir } from '../templates/layout.js';

/** Prefix of every temp dir the test fixtures make (the leak checker looks for it). */
export const TEST_TMP_PREFIX = 'tartarus-test-';

/** The template cache tests use: `$TARTARUS_TEMPLATE_DIR`, else /var/cache/tartarus/templates. */
export function testTemplateDir(): string {
  return defaultTemplateDir();
}

/** A Runtime over a temp state dir; call `dispose()` in `finally`/`after`. */
export interface TestRuntime {
  runtime: Runtime;
  stateDir: string;
  /** Destroys every sandbox still on the host for this Runtime, then removes the state dir. Idempotent. */
  dispose(): Promise<void>;
}

/** Makes a `TestRuntime`. `options` may override anything but `stateDir`. */
export async function testRuntime(options: Omit<RuntimeOptions, 'stateDir'> = {}): Promise<TestRuntime> {
  const stateDir = await mkdtemp(join(tmpdir(), `${TEST_TMP_PREFIX}state-`));
  const runtime = new Runtime({ templateDir: testTemplateDir(), ...options, stateDir });
  let disposed: Promise<void> | undefined;
  return {
    runtime,
    stateDir,
    dispose: () => {
      disposed ??= (async () => {
        try {
          await runtime.close();
          await runtime.cleanupOrphans();
        } finally {
          await rm(stateDir, { recursive: true, force: true });
        }
      })();
      return disposed;
    },
  };
}

/** Runs `fn` with a fresh `TestRuntime`, disposed afterwards even if `fn` throws. */
export async function withTestRuntime<T>(fn: (t: TestRuntime) => Promise<T>, options?: Omit<RuntimeOptions, 'stateDir'>): Promise<T> {
  const t = await testRuntime(options);
  try {
    return await fn(t);
  } finally {
    await t.dispose();
  }
}
