// Test fixtures of @tartarus/runtime, exported as `@tartarus/runtime/testing`.
export { testRuntime, withTestRuntime, testTemplateDir, TEST_TMP_PREFIX, type TestRuntime } from './runtime.js';
export { snapshotHost, findLeaks, assertNoLeaks, type HostSnapshot, type LeakScope } from './leaks.js';
