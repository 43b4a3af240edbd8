/**
 * A run's output as it is produced: the SDK's `followLogs` (fetch + server-sent events, resumed
 * after a cut), from the first chunk until the run is final. Shows the run's end, or the error
 * (e.g. 410 when its logs have expired).
 */
import { useEffect, useState } from 'react';
import type { RunLogEntry, RunStateName } from '@tartarus/sdk';
import { useClient } from '../session';
import { ErrorBox } from './error-box';

/** Chunks kept on the page; older ones are dropped (the full output stays on the server). */
const MAX_CHUNKS = 5000;

/** The live log of run `id`. */
export function RunLogs({ id }: { id: string }) {
  const client = useClient();
  const [chunks, setChunks] = useState<RunLogEntry[]>([]);
  const [end, setEnd] = useState<RunStateName>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const abort = new AbortController();
    setChunks([]);
    setEnd(undefined);
    setError(undefined);
    void (async () => {
      try {
        const stream = client.runs.followLogs(id, { signal: abort.signal });
        let step = await stream.next();
        for (; !step.done; step = await stream.next()) {
          const chunk = step.value;
          setChunks((prev) => [...prev.slice(-(MAX_CHUNKS - 1)), chunk]);
        }
        setEnd(step.value);
      } catch (e) {
        if (!abort.signal.aborted) setError(e);
      }
    })();
    return () => abort.abort();
  }, [client, id]);
  return (
    <div className="logs">
      <pre data-testid="run-logs">
        {chunks.map((c) => (
          <span key={c.seq} className={c.stream === 'stderr' ? 'stderr' : undefined}>
            {c.data}
          </span>
        ))}
      </pre>
      <ErrorBox error={error} />
      <p className="muted" data-testid="logs-status">
        {end ? `Ended: ${end}.` : error ? '' : 'Following…'}
        {chunks.length === 0 && end && ' No output.'}
      </p>
    </div>
  );
}
