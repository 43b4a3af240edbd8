// Test fixtures of @tartarus/runtime, exported as `@tartarus/runtime/testing`.
export { testRuntime, withTestRuntime, testTemplateDir, TEST_TMP_PREFIX, type TestRuntime } from './runtime.js';
export { snapshotHost, findLeaks, assertNoLeaks, type HostSnapshot, type LeakScope } from './leaks.js';
export { startRegistry, runTool, type TestRegistry, type StartRegistryOptions } from './registry.js';
export {
  buildTestImage,
  pushTestImage,
  buildTestIndex,
  pushTestIndex,
  ociManifestDigest,
  type TestImageSpec,
  type TestImageConfig,
  type TestLayer,
  type PushedImage,
} from './images.js';
export { startImageFixtures, type ImageFixtures } from './image-fixtures.js';
export {
  startRemoteHost,
  startTestDns,
  httpGet,
  freePort,
  REMOTE_ADDRESS,
  REMOTE_OTHER_ADDRESS,
  METADATA_ADDRESS,
  REMOTE_NAME,
  type RemoteHost,
} from './remote-host.js';
