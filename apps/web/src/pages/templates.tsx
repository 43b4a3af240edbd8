/** Templates: the built-ins and the tenant's own; build one (a built-in) or rebuild it, with progress. */
import { useState } from 'react';
import type { Template, TemplateProgress } from '@tartarus/sdk';
import { ErrorBox } from '../components/error-box';
import { StateBadge } from '../components/state-badge';
import { bytes, dateTime } from '../format';
import { useClient } from '../session';
import { usePoll } from '../use-poll';

/** A build in progress or just ended, per template name. */
interface Build {
  progress?: TemplateProgress;
  done?: boolean;
  error?: unknown;
}

/** `built`, `not built` (a built-in not built on any node yet), `pending` or `failed`. */
function statusOf(t: Template): string {
  if (t.built) return 'built';
  return t.status === 'ready' ? 'not built' : t.status;
}

function BuildCell({ build }: { build: Build | undefined }) {
  if (!build) return null;
  const p = build.progress;
  return (
    <div className="build" data-testid="build-progress">
      {!build.done && !build.error && <progress max={1} value={p?.fraction} />}
      <span className="muted">
        {build.error ? '' : build.done ? 'built' : (p ? `${p.phase}: ${p.message}` : 'starting…')}
      </span>
      <ErrorBox error={build.error} />
    </div>
  );
}

/** The templates page. */
export function TemplatesPage() {
  const client = useClient();
  const list = usePoll(() => client.templates.list(), [client], 5000);
  const [builds, setBuilds] = useState<Record<string, Build>>({});
  const update = (name: string, b: Build) => setBuilds((prev) => ({ ...prev, [name]: b }));

  const build = async (t: Template) => {
    update(t.name, {});
    const onProgress = (progress: TemplateProgress) => update(t.name, { progress });
    try {
      if (t.source === 'builtin') await client.templates.build(t.name, { onProgress });
      else await client.templates.rebuild(t.name, { onProgress });
      update(t.name, { done: true });
    } catch (error) {
      update(t.name, { error });
    }
    list.reload();
  };

  return (
    <section data-testid="templates-page">
      <h1>Templates</h1>
      <ErrorBox error={list.error} />
      {list.data && (
        <table data-testid="templates-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Source</th>
              <th>Status</th>
              <th>Size</th>
              <th>Built</th>
              <th>Description</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((t) => {
              const running = builds[t.name] && !builds[t.name]?.done && !builds[t.name]?.error;
              return (
                <tr key={t.name} data-testid={`template-${t.name}`}>
                  <td className="mono">{t.name}</td>
                  <td>{t.image ? `${t.source}: ${t.image}` : t.source}</td>
                  <td>
                    <StateBadge state={statusOf(t)} />
                    {t.error && <div className="error">{t.error}</div>}
                  </td>
                  <td>{bytes(t.sizeBytes)}</td>
                  <td>{dateTime(t.builtAt)}</td>
                  <td>{t.description}</td>
                  <td>
                    <button type="button" data-testid="build" disabled={running} onClick={() => void build(t)}>
                      {t.built ? 'Rebuild' : 'Build'}
                    </button>
                    <BuildCell build={builds[t.name]} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
