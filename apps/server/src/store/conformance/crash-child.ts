/**
 * Child process of the crash test: opens the store given as JSON in argv[2], submits runs, leases
 * and confirms some, prints `ready <json>` and then waits to be killed with SIGKILL mid-flight.
 */
import { runSpec } from './harness.js';
import { openStore } from '../open.js';
import type { StoreOptions } from '../store.js';

const options = JSON.parse(process.argv[2] ?? '{}') as StoreOptions & {
  tenantId: string;
  nodeId: string;
};
const store = await openStore(options);
const submitted: string[] = [];
for (let i = 0; i < 10; i++)
  submitted.push(
    (await store.runs.submit(options.tenantId, runSpec({ command: ['job', String(i)] }))).run.id,
  );
const leases = await store.queue.leaseRuns(options.nodeId, { max: 6, leaseMs: 60_000 });
for (const l of leases.slice(0, 3))
  await store.queue.confirmStart(l.run.id, l.epoch, options.nodeId, 60_000);
process.stdout.write(`ready ${JSON.stringify({ submitted })}\n`);
// Keep the connection open, as a live server would, until the parent kills us.
setInterval(() => {}, 60_000);
