/** Nodes: capacity against what their work reserves, and how long since each heartbeat (polled). */
import type { Node } from '@tartarus/sdk';
import { ErrorBox } from '../components/error-box';
import { StateBadge } from '../components/state-badge';
import { age, dateTime, mebibytes, num } from '../format';
import { useClient } from '../session';
import { usePoll } from '../use-poll';

/** `used / capacity` with a bar. */
function Usage({ used, capacity, show }: { used: number; capacity: number; show(n: number): string }) {
  const fraction = capacity > 0 ? Math.min(1, used / capacity) : 0;
  return (
    <div className="gauge" title={`${Math.round(fraction * 100)}%`}>
      <span>
        {show(used)} / {show(capacity)}
      </span>
      <meter min={0} max={1} value={fraction} />
    </div>
  );
}

function NodeRow({ node, nowMs }: { node: Node; nowMs: number }) {
  const labels = Object.entries(node.labels).map(([k, v]) => `${k}=${v}`);
  return (
    <tr data-testid={`node-${node.id}`}>
      <td>
        {node.name}
        <div className="muted mono">{node.id}</div>
      </td>
      <td>
        <StateBadge state={node.status} />
      </td>
      <td data-testid="heartbeat-age" title={dateTime(node.lastHeartbeatAt)}>
        {age(node.lastHeartbeatAt, nowMs)}
      </td>
      <td>{node.runtimes.join(', ')}</td>
      <td data-testid="capacity-cpu">
        <Usage used={node.used.cpu} capacity={node.capacity.cpu} show={(n) => num(n)} />
      </td>
      <td>
        <Usage used={node.used.memoryMiB} capacity={node.capacity.memoryMiB} show={mebibytes} />
      </td>
      <td>
        {node.capacity.diskMiB > 0 ? (
          <Usage used={node.used.diskMiB} capacity={node.capacity.diskMiB} show={mebibytes} />
        ) : (
          '-'
        )}
      </td>
      <td>
        <Usage used={node.used.slots} capacity={node.capacity.slots} show={String} />
      </td>
      <td className="mono">{labels.join(' ') || '-'}</td>
    </tr>
  );
}

/** The nodes page. */
export function NodesPage() {
  const client = useClient();
  const nodes = usePoll(() => client.nodes.list(), [client]);
  const nowMs = Date.now();
  return (
    <section data-testid="nodes-page">
      <h1>Nodes</h1>
      <ErrorBox error={nodes.error} />
      {nodes.data && (
        <table data-testid="nodes-table">
          <thead>
            <tr>
              <th>Node</th>
              <th>Status</th>
              <th>Heartbeat</th>
              <th>Runtimes</th>
              <th>CPU</th>
              <th>Memory</th>
              <th>Disk</th>
              <th>Slots</th>
              <th>Labels</th>
            </tr>
          </thead>
          <tbody>
            {nodes.data.map((n) => (
              <NodeRow key={n.id} node={n} nowMs={nowMs} />
            ))}
          </tbody>
        </table>
      )}
      {nodes.data?.length === 0 && <p className="muted">No node has connected yet.</p>}
    </section>
  );
}
