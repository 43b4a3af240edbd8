/**
 * The reliability battery of distributed mode: two server replicas (processes) on a PostgreSQL and
 * a Redis started here, two hosts (network namespaces this test creates) each with an agent
 * (process, real runc), short timers, and one fault after another:
 *
 *   1. an agent SIGKILLed again and again during 200 runs;
 *   2. a server replica SIGKILLed with submissions in flight, the client retrying through the other;
 *   3. a host cut off past the node deadline, then healed;
 *   4. Redis, then PostgreSQL, restarted under load;
 *   5. a poison run among 50 good ones;
 *   6. 1,000 submissions at once;
 *   7. after each: nothing of any sandbox left on any host.
 *
 * Prints a table of what each did (accepted, finished, lost, duplicated). Runs once per suite,
 * in a few minutes; skipped, with the reason printed, where a part is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, clusterUnavailable } from './harness/cluster.js';
import { formatTable, type Row } from './harness/table.js';
import { agentKills } from './scenarios/agent-kills.js';
import { replicaKill } from './scenarios/replica-kill.js';
import { partition } from './scenarios/partition.js';
import { outages } from './scenarios/outages.js';
import { poison } from './scenarios/poison.js';
import { burst } from './scenarios/burst.js';

const ALL: [string, (c: Cluster) => Promise<Row>][] = [
  ['agent-kills', agentKills],
  ['replica-kill', replicaKill],
  ['partition', partition],
  ['outages', outages],
  ['poison', poison],
  ['burst', burst],
];
/** TARTARUS_BATTERY=name,name runs only those (to look at one). */
const only = (process.env['TARTARUS_BATTERY'] ?? '').split(',').filter(Boolean);
const SCENARIOS = only.length === 0 ? ALL : ALL.filter(([name]) => only.includes(name));

test('reliability battery: faults under load lose nothing and commit nothing twice', async (t) => {
  const skip = clusterUnavailable();
  if (skip) return t.skip(skip);
  const rows: Row[] = [];
  const cluster = await Cluster.start({ rateLimitPerSec: 20, rateLimitBurst: 200 });
  try {
    for (const [name, scenario] of SCENARIOS) {
      await t.test(name, async () => {
        const row = await scenario(cluster);
        rows.push(row);
        // 7. Nothing of any sandbox is left on any host once the scenario's work is over.
        const deadline = Date.now() + 30_000;
        let leaks = await cluster.leaks();
        while (leaks.length > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          leaks = await cluster.leaks();
        }
        row.notes += leaks.length === 0 ? '; hosts clean' : `; LEFT: ${leaks.slice(0, 3).join(', ')}`;
        assert.deepEqual(leaks, [], `left on the hosts after ${name}`);
        assert.equal(row.lost, 0, `${name}: runs lost`);
        assert.equal(row.duplicated, 0, `${name}: runs duplicated`);
        assert.equal(row.finished, row.accepted, `${name}: runs not final`);
      });
    }
  } finally {
    console.log(`\nreliability battery (logs in ${cluster.dir} until the end):\n${formatTable(rows)}\n`);
    await cluster.stop();
  }
});
