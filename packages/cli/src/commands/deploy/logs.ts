/**
 * `tartarus logs DEPLOYMENT SERVICE [-f]`: a service's output — its newest run's (a replica, a
 * job's or a cron's), followed live with `-f` until that run ends. The default subcommand of
 * `tartarus logs` (whose `search` looks through every kept log).
 */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions } from '../../options.js';

/** Builds the deployment-logs subcommand. */
export function deploymentLogsCommand(): Command {
  return new Command('service')
    .description("a deployment service's output (its newest run's); -f follows it")
    .argument('<deployment>')
    .argument('<service>')
    .option('-f, --follow', 'keep printing until the run ends')
    .action(async (name: string, service: string, _o: unknown, self: Command) => {
      const o = allOptions<{ follow?: boolean }>(self);
      const client = await connect(o.dataDir);
      const [run] = await client.deployments.runs(name, { service });
      if (run === undefined) throw new UsageError(`${name}/${service} has no runs yet`);
      if (o.follow) {
        const logs = client.runs.followLogs(run.runId);
        for (let step = await logs.next(); !step.done; step = await logs.next()) (step.value.stream === 'stdout' ? process.stdout : process.stderr).write(step.value.data);
        return;
      }
      for (const c of (await client.runs.logs(run.runId)).items) (c.stream === 'stdout' ? process.stdout : process.stderr).write(c.data);
    });
}
