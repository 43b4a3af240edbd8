/** One run: its state (polled until it is final and cleaned up), live logs and phase timeline. */
import { useState } from 'react';
import { FINAL_RUN_STATES, type Run } from '@tartarus/sdk';
import { Link } from 'wouter';
import { ErrorBox } from '../components/error-box';
import { PhaseTimeline } from '../components/phase-timeline';
import { RunLogs } from '../components/run-logs';
import { StateBadge } from '../components/state-badge';
import { commandOf, dateTime, duration } from '../format';
import { useClient } from '../session';
import { LIVE_POLL_MS, usePoll } from '../use-poll';

/** Whether nothing about the run will change any more (final, and its cleanup recorded). */
function settled(run: Run | undefined): boolean {
  return run !== undefined && FINAL_RUN_STATES.has(run.state) && run.phases.cleanedUpAt !== null;
}

function Details({ run }: { run: Run }) {
  const rows: [string, string][] = [
    ['Command', commandOf(run) || '(image default)'],
    ['Template', run.image ? `${run.template} (${run.image})` : run.template],
    ['Runtime', run.runtime],
    ['Exit code', run.exitCode === null ? '-' : String(run.exitCode)],
    ['Reason', run.reason ?? '-'],
    ['Message', run.message ?? '-'],
    ['Attempts', `${run.attempts} of ${run.maxAttempts}`],
    ['Created', dateTime(run.createdAt)],
    ['Duration', duration(run.durationMs)],
  ];
  return (
    <table className="details" data-testid="run-details">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td className={k === 'Command' ? 'mono' : ''}>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The run page. */
export function RunPage({ id }: { id: string }) {
  const client = useClient();
  const [actionError, setActionError] = useState<unknown>();
  const [done, setDone] = useState(false);
  // Polled until settled; the change of interval then loads it one last time and stops.
  const run = usePoll(
    async () => {
      const r = await client.runs.get(id);
      setDone(settled(r));
      return r;
    },
    [client, id],
    done ? null : LIVE_POLL_MS,
  );

  const cancel = async () => {
    if (!window.confirm(`Cancel run ${id}?`)) return;
    try {
      await client.runs.cancel(id);
      run.reload();
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <section data-testid="run-page">
      <div className="toolbar">
        <h1>
          <Link href="/runs">Runs</Link> / <span className="mono">{id}</span>
        </h1>
        {run.data && <StateBadge state={run.data.state} />}
        {run.data && !FINAL_RUN_STATES.has(run.data.state) && (
          <button type="button" className="danger" data-testid="cancel" onClick={() => void cancel()}>
            Cancel
          </button>
        )}
      </div>
      <ErrorBox error={actionError ?? run.error} />
      {run.data && (
        <div className="columns">
          <Details run={run.data} />
          <PhaseTimeline phases={run.data.phases} />
        </div>
      )}
      <h2>Logs</h2>
      <RunLogs id={id} />
    </section>
  );
}
