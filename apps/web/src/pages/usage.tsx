/**
 * Usage over time: `client.usage.get` for a window, grouped by day (or tenant, runtime), as a
 * chart and a table with the total; and the same report as a CSV download.
 */
import { useState } from 'react';
import type { UsageGroup, UsageReport } from '@tartarus/sdk';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ErrorBox } from '../components/error-box';
import { bytes, num } from '../format';
import { useClient } from '../session';
import { usePoll } from '../use-poll';

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a time (UTC, as the report's days are). */
function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The query's window: from the start of `fromDay` to the end of `toDay`, UTC; throws for a missing day. */
function windowOf(fromDay: string, toDay: string): { from: string; to: string } {
  const from = Date.parse(`${fromDay}T00:00:00Z`);
  const to = Date.parse(`${toDay}T00:00:00Z`) + DAY_MS;
  if (Number.isNaN(from) || Number.isNaN(to)) throw new Error('Choose a from and a to day.');
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** Saves `text` as a file through a temporary link. */
function download(text: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function UsageChart({ report }: { report: UsageReport }) {
  return (
    <div className="card" data-testid="usage-chart">
      <ResponsiveContainer width="100%" height={280}>
        <BarChart data={report.rows} margin={{ left: 10, right: 20 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="key" />
          <YAxis />
          <Tooltip />
          <Legend />
          <Bar dataKey="cpuSeconds" name="CPU seconds" fill="#5b8def" isAnimationActive={false} />
          <Bar dataKey="memoryGibSeconds" name="memory GiB·s" fill="#9b6cd9" isAnimationActive={false} />
          <Bar dataKey="sandboxSeconds" name="sandbox seconds" fill="#2bb3a3" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

function UsageTable({ report }: { report: UsageReport }) {
  const rows = [...report.rows.map((r) => ({ ...r, total: false })), { ...report.total, key: 'total', total: true }];
  return (
    <table data-testid="usage-table">
      <thead>
        <tr>
          <th>{report.group}</th>
          <th>CPU s</th>
          <th>Memory GiB·s</th>
          <th>Sandbox s</th>
          <th>Egress</th>
          <th>Sandboxes</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} className={r.total ? 'total' : undefined} data-testid={r.total ? 'usage-total' : 'usage-row'}>
            <td className="mono">{r.key}</td>
            <td>{num(r.cpuSeconds)}</td>
            <td>{num(r.memoryGibSeconds)}</td>
            <td>{num(r.sandboxSeconds)}</td>
            <td>{bytes(r.egressBytes)}</td>
            <td>{r.sandboxes}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The usage page. */
export function UsagePage() {
  const client = useClient();
  const [fromDay, setFromDay] = useState(isoDay(Date.now() - 29 * DAY_MS));
  const [toDay, setToDay] = useState(isoDay(Date.now()));
  const [group, setGroup] = useState<UsageGroup>('day');
  const [csvError, setCsvError] = useState<unknown>();
  const query = () => ({ ...windowOf(fromDay, toDay), group });
  const report = usePoll(() => client.usage.get(query()), [client, fromDay, toDay, group], null);

  const csv = async () => {
    setCsvError(undefined);
    try {
      download(await client.usage.csv(query()), `tartarus-usage-${group}-${fromDay}-${toDay}.csv`);
    } catch (e) {
      setCsvError(e);
    }
  };

  return (
    <section data-testid="usage-page">
      <h1>Usage</h1>
      <div className="card row">
        <label>
          From <input type="date" data-testid="usage-from" value={fromDay} onChange={(e) => setFromDay(e.target.value)} />
        </label>
        <label>
          To <input type="date" data-testid="usage-to" value={toDay} onChange={(e) => setToDay(e.target.value)} />
        </label>
        <label>
          By{' '}
          <select data-testid="usage-group" value={group} onChange={(e) => setGroup(e.target.value as UsageGroup)}>
            <option value="day">day</option>
            <option value="tenant">tenant</option>
            <option value="runtime">runtime</option>
          </select>
        </label>
        <button type="button" data-testid="usage-csv" onClick={() => void csv()}>
          Download CSV
        </button>
      </div>
      <ErrorBox error={csvError ?? report.error} />
      {report.data && !report.error && (
        <>
          <UsageChart report={report.data} />
          <UsageTable report={report.data} />
        </>
      )}
    </section>
  );
}
