/** Runs: live list (polled), filtered by state, and the form that starts one. */
import { useState } from 'react';
import { RUN_STATES } from '@tartarus/core/base';
import type { RunStateName } from '@tartarus/sdk';
import { Link } from 'wouter';
import { ErrorBox } from '../components/error-box';
import { RunForm } from '../components/run-form';
import { StateBadge } from '../components/state-badge';
import { StateFilter } from '../components/state-filter';
import { age, commandOf, dateTime, duration } from '../format';
import { useClient } from '../session';
import { usePoll } from '../use-poll';

/** The runs page. */
export function RunsPage() {
  const client = useClient();
  const [state, setState] = useState<RunStateName | ''>('');
  const page = usePoll(
    () => client.runs.list({ limit: 100, ...(state ? { state } : {}) }),
    [client, state],
  );
  return (
    <section data-testid="runs-page">
      <h1>Runs</h1>
      <RunForm />
      <div className="toolbar">
        <h2>Recent runs</h2>
        <StateFilter<RunStateName> states={RUN_STATES} value={state} onChange={setState} />
      </div>
      <ErrorBox error={page.error} />
      {page.data && (
        <table data-testid="runs-table">
          <thead>
            <tr>
              <th>ID</th>
              <th>State</th>
              <th>Command</th>
              <th>Template</th>
              <th>Created</th>
              <th>Duration</th>
              <th>Exit</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((r) => (
              <tr key={r.id} data-testid={`run-${r.id}`}>
                <td className="mono">
                  <Link href={`/runs/${r.id}`}>{r.id}</Link>
                </td>
                <td>
                  <StateBadge state={r.state} />
                </td>
                <td className="mono ellipsis" title={commandOf(r)}>
                  {commandOf(r) || '(image default)'}
                </td>
                <td>{r.template}</td>
                <td title={dateTime(r.createdAt)}>{age(r.createdAt)}</td>
                <td>{duration(r.durationMs)}</td>
                <td>{r.exitCode ?? r.reason ?? '-'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.data?.items.length === 0 && <p className="muted">No runs{state && ` in state ${state}`}.</p>}
    </section>
  );
}
