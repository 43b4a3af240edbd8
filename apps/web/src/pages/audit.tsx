/** The audit log: every mutating call with its key, action, target and status; newest first, paged. */
import { useEffect, useState } from 'react';
import type { AuditEntry } from '@tartarus/sdk';
import { ErrorBox } from '../components/error-box';
import { dateTime } from '../format';
import { useClient } from '../session';

const PAGE = 50;

/** The audit page. */
export function AuditPage() {
  const client = useClient();
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [round, setRound] = useState(0);

  const load = async (after: string | null) => {
    setError(undefined);
    try {
      const page = await client.audit.list({ limit: PAGE, ...(after ? { cursor: after } : {}) });
      setEntries((prev) => (after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    }
  };
  // The first page on open and on refresh (`load` is a new closure each render).
  useEffect(() => void load(null), [client, round]);

  return (
    <section data-testid="audit-page">
      <div className="toolbar">
        <h1>Audit log</h1>
        <button type="button" onClick={() => setRound((r) => r + 1)}>
          Refresh
        </button>
      </div>
      <ErrorBox error={error} />
      {entries && (
        <table data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Action</th>
              <th>Target</th>
              <th>Key</th>
              <th>Request</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((a) => (
              <tr key={a.id} data-testid="audit-entry">
                <td>{dateTime(a.at)}</td>
                <td className="mono">{a.action}</td>
                <td className="mono">{a.target ?? '-'}</td>
                <td className="mono">{a.keyId ?? '-'}</td>
                <td className="mono">
                  {String(a.details.method ?? '')} {String(a.details.path ?? '')}
                </td>
                <td>{String(a.details.status ?? '-')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries?.length === 0 && <p className="muted">Nothing audited yet.</p>}
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Load more
        </button>
      )}
    </section>
  );
}
