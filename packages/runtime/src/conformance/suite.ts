/**
 * The driver conformance suite: the same tests, unchanged, for every driver in the Runtime's
 * registry. `conformanceSuite(name)` registers them under `describe('conformance: <name>')`;
 * a driver whose `available()` says no is skipped with its reason printed. A new driver gets
 * the suite by joining the registry (see runtime.ts).
 *
 * Every test makes its own sandboxes and destroys them in `finally`; after the suite, nothing
 * of it may remain on the host (leak check).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeName } from '../driver.js';
import { DRIVER_FACTORIES, Runtime } from '../runtime.js';
import { assertNoLeaks, snapshotHost, type HostSnapshot } from '../testing/leaks.js';
import { testRuntime, testTemplateDir, type TestRuntime } from '../testing/runtime.js';
import { processTests } from './process-tests.js';
import { sandboxTests } from './sandbox-tests.js';
import { lifecycleTests } from './lifecycle-tests.js';

/** What each group of conformance tests gets. */
export interface SuiteContext {
  runtime: RuntimeName;
  /** The suite's Runtime (valid inside tests). */
  rt(): Runtime;
  /** The suite's TestRuntime (state dir, dispose). */
  fixture(): TestRuntime;
  /** Prefix of every sandbox id the suite creates (for the scoped leak check). */
  idPrefix: string;
  /** A fresh sandbox id. */
  newId(): string;
}

/** The template every conformance test runs on (small, built in milliseconds). */
export const CONFORMANCE_TEMPLATE = 'busybox';

/**
 * The drivers to run the suites against: every registered one, or the comma-separated list in
 * `$TARTARUS_CONFORMANCE_DRIVERS` (e.g. `container,gvisor` while working on those); an unknown
 * name there throws.
 */
export function conformanceDrivers(): RuntimeName[] {
  const all = Object.keys(DRIVER_FACTORIES) as RuntimeName[];
  const only = process.env.TARTARUS_CONFORMANCE_DRIVERS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!only?.length) return all;
  // A misspelt name would otherwise select no driver, and a suite with no tests cannot fail.
  const unknown = only.filter((n) => !(all as string[]).includes(n));
  if (unknown.length) {
    throw new Error(`TARTARUS_CONFORMANCE_DRIVERS: unknown driver ${unknown.join(', ')}; known: ${all.join(', ')}`);
  }
  return only as RuntimeName[];
}

/** Why `name` cannot run here, or false when it can. */
export async function skipReason(name: RuntimeName): Promise<string | false> {
  const probe = new Runtime({ stateDir: '/nonexistent-probe-only', templateDir: testTemplateDir() });
  const a = await probe.driver(name).available();
  return a.ok ? false : `${name} unavailable: ${a.reason}`;
}

/** Registers the conformance suite for driver `name`. Call at the top level of a test file. */
export async function conformanceSuite(name: RuntimeName): Promise<void> {
  const skip = await skipReason(name);
  if (skip) console.log(`# conformance: ${name} skipped: ${skip}`);
  const idPrefix = `cf-${name.slice(0, 3)}-${process.pid.toString(36)}`;
  let counter = 0;
  let fixture: TestRuntime | undefined;
  let snapshot: HostSnapshot | undefined;
  const ctx: SuiteContext = {
    runtime: name,
    rt: () => (fixture as TestRuntime).runtime,
    fixture: () => fixture as TestRuntime,
    idPrefix,
    newId: () => `${idPrefix}-${(counter++).toString(36)}`,
  };
  describe(`conformance: ${name}`, { skip }, () => {
    before(async () => {
      snapshot = await snapshotHost();
      fixture = await testRuntime();
      await fixture.runtime.templates.ensure(CONFORMANCE_TEMPLATE);
    });
    after(async () => {
      const stateDir = fixture?.stateDir;
      await fixture?.dispose();
      if (snapshot) await assertNoLeaks(snapshot, { path: stateDir, idPrefix });
    });
    processTests(ctx);
    sandboxTests(ctx);
    lifecycleTests(ctx);
    test('leaves no host object behind once destroyed', async () => {
      assert.deepEqual(await ctx.rt().list(), []);
    });
  });
}
