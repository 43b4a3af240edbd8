/**
 * Starts a run: a shell command (run with the template's `sh -c`) or an argv (one argument per
 * line), on a template; then opens the run's page.
 */
import { useState, type FormEvent } from 'react';
import type { SubmitRunRequest } from '@tartarus/sdk';
import { useLocation } from 'wouter';
import { useClient } from '../session';
import { usePoll } from '../use-poll';
import { ErrorBox } from './error-box';

type Mode = 'command' | 'argv';

/** The request the form describes. */
function requestOf(mode: Mode, text: string, template: string): SubmitRunRequest {
  if (mode === 'command') return { command: text, template };
  return { argv: text.split('\n').filter((line) => line !== ''), template };
}

/** The start-a-run form. */
export function RunForm() {
  const client = useClient();
  const [, navigate] = useLocation();
  const [mode, setMode] = useState<Mode>('command');
  const [text, setText] = useState('');
  const [template, setTemplate] = useState('busybox');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const templates = usePoll(() => client.templates.list(), [client], null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const run = await client.runs.submit(requestOf(mode, text, template));
      navigate(`/runs/${run.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <form className="card run-form" onSubmit={(e) => void submit(e)} data-testid="run-form">
      <div className="row">
        <label>
          <input type="radio" checked={mode === 'command'} onChange={() => setMode('command')} /> Shell
          command
        </label>
        <label>
          <input type="radio" checked={mode === 'argv'} onChange={() => setMode('argv')} /> Argv (one
          argument per line)
        </label>
        <label>
          Template{' '}
          <select
            data-testid="run-template"
            value={template}
            onChange={(e) => setTemplate(e.target.value)}
          >
            {(templates.data ?? [{ name: 'busybox' }]).map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <textarea
        data-testid="run-command"
        rows={mode === 'argv' ? 4 : 2}
        placeholder={mode === 'argv' ? 'echo\nhello' : 'echo hello; sleep 1; echo done'}
        value={text}
        onChange={(e) => setText(e.target.value)}
        required
      />
      <button type="submit" data-testid="run-submit" disabled={busy || text.trim() === ''}>
        {busy ? 'Starting…' : 'Start run'}
      </button>
      <ErrorBox error={error ?? templates.error} />
    </form>
  );
}
