/** Sign in with an API key; it is checked with one call before it is kept. */
import { useState, type FormEvent } from 'react';
import { ErrorBox } from '../components/error-box';
import { clientFor } from '../session';

/** The sign-in form; `onSignedIn` gets a key the server accepted. */
export function SignIn({ onSignedIn }: { onSignedIn(key: string): void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // Any role may list runs: the cheapest call that proves the key.
      await clientFor(key.trim()).runs.list({ limit: 1 });
      onSignedIn(key.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>Tartarus</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          API key
          <input
            type="password"
            autoComplete="off"
            placeholder="tt_…"
            data-testid="api-key"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            required
          />
        </label>
        <button type="submit" data-testid="sign-in" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ErrorBox error={error} />
      <p className="hint">
        The admin key of a local <code>tartarus up</code> is in <code>~/.tartarus/admin-key</code>. It
        is kept in this tab only (sessionStorage) until you sign out.
      </p>
    </main>
  );
}
