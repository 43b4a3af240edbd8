// Runs the conformance suite once per registered driver; unavailable ones are skipped with the reason.
import { conformanceDrivers, conformanceSuite } from './suite.js';

for (const name of conformanceDrivers()) {
  await conformanceSuite(name);
}
