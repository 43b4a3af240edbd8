// Runs the conformance suite once per registered driver; unavailable ones are skipped with the reason.
import type { RuntimeName } from '../driver.js';
import { DRIVER_FACTORIES } from '../runtime.js';
import { conformanceSuite } from './suite.js';

for (const name of Object.keys(DRIVER_FACTORIES) as RuntimeName[]) {
  await conformanceSuite(name);
}
