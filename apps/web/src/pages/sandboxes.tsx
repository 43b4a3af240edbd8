/** Sandboxes: live list (polled), filtered by state; kill one (confirmed). */
import { useState } from 'react';
import { SANDBOX_STATES, isLiveSandbox } from '@tartarus/core/base';
import type { SandboxStateName } from '@tartarus/sdk';
import { ErrorBox } from '../components/error-box';
import { StateBadge } from '../components/state-badge';
import { StateFilter } from '../components/state-filter';
import { age, dateTime } from '../format';
import { useClient } from '../session';
import { usePoll } from '../use-poll';

/** The sandboxes page. */
export function SandboxesPage() {
  const client = useClient();
  const [state, setState] = useState<SandboxStateName | ''>('');
  const [actionError, setActionError] = useState<unknown>();
  const [killing, setKilling] = useState<string | null>(null);
  const page = usePoll(
    () => client.sandboxes.list({ limit: 100, ...(state ? { state } : {}) }),
    [client, state],
  );

  const kill = async (id: string) => {
    if (!window.confirm(`Kill sandbox ${id}? Its processes and writable layer are destroyed.`)) return;
    setKilling(id);
    setActionError(undefined);
    try {
      await (await client.sandboxes.connect(id)).kill();
      page.reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setKilling(null);
    }
  };

  return (
    <section data-testid="sandboxes-page">
      <div className="toolbar">
        <h1>Sandboxes</h1>
        <StateFilter<SandboxStateName> states={SANDBOX_STATES} value={state} onChange={setState} />
      </div>
      <ErrorBox error={actionError ?? page.error} />
      {page.data && (
        <table data-testid="sandboxes-table">
          <thead>
            <tr>
              <th>ID</th>
              <th>State</th>
              <th>Template</th>
              <th>Runtime</th>
              <th>Node</th>
              <th>Created</th>
              <th>Ends</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((s) => (
              <tr key={s.id} data-testid={`sandbox-${s.id}`}>
                <td className="mono">{s.id}</td>
                <td>
                  <StateBadge state={s.state} />
                  {s.exit && <span className="muted"> {s.exit.reason}</span>}
                </td>
                <td>{s.template}</td>
                <td>{s.runtime}</td>
                <td className="mono">{s.nodeId ?? '-'}</td>
                <td title={dateTime(s.createdAt)}>{age(s.createdAt)}</td>
                <td>{isLiveSandbox(s.state) ? dateTime(s.timeoutAt) : dateTime(s.endedAt)}</td>
                <td>
                  {isLiveSandbox(s.state) && (
                    <button
                      type="button"
                      className="danger"
                      data-testid="kill"
                      disabled={killing === s.id}
                      onClick={() => void kill(s.id)}
                    >
                      {killing === s.id ? 'Killing…' : 'Kill'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.data?.items.length === 0 && <p className="muted">No sandboxes{state && ` in state ${state}`}.</p>}
    </section>
  );
}
