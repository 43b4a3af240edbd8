/** API keys of the tenant: list, create (the secret is shown once), revoke (confirmed). */
import { useState, type FormEvent } from 'react';
import { ROLES, type Role } from '@tartarus/core/base';
import type { CreatedApiKey } from '@tartarus/sdk';
import { ErrorBox } from '../components/error-box';
import { StateBadge } from '../components/state-badge';
import { age, dateTime } from '../format';
import { useClient } from '../session';
import { usePoll } from '../use-poll';

function CreateKey({ onCreated }: { onCreated(key: CreatedApiKey): void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [error, setError] = useState<unknown>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      onCreated(await client.apiKeys.create({ name: name.trim(), role }));
      setName('');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="card row" onSubmit={(e) => void submit(e)} data-testid="key-form">
      <label>
        Name{' '}
        <input data-testid="key-name" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Role{' '}
        <select data-testid="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <button type="submit" data-testid="key-create" disabled={name.trim() === ''}>
        Create key
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

/** The API keys page. */
export function ApiKeysPage() {
  const client = useClient();
  const keys = usePoll(() => client.apiKeys.list(), [client], null);
  const [created, setCreated] = useState<CreatedApiKey>();
  const [actionError, setActionError] = useState<unknown>();

  const revoke = async (id: string, name: string) => {
    if (!window.confirm(`Revoke key "${name}" (${id})? Calls with it fail from now on.`)) return;
    setActionError(undefined);
    try {
      await client.apiKeys.revoke(id);
    } catch (e) {
      setActionError(e);
    }
    keys.reload();
  };

  return (
    <section data-testid="api-keys-page">
      <h1>API keys</h1>
      <CreateKey
        onCreated={(k) => {
          setCreated(k);
          keys.reload();
        }}
      />
      {created && (
        <div className="card secret" data-testid="new-key">
          <p>
            Key <strong>{created.name}</strong> ({created.role}) created. Copy its secret now: it is shown
            only this once.
          </p>
          <code data-testid="new-key-secret">{created.secret}</code>{' '}
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created.secret).catch(() => undefined)}>
            Copy
          </button>{' '}
          <button type="button" className="link" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      )}
      <ErrorBox error={actionError ?? keys.error} />
      {keys.data && (
        <table data-testid="keys-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>ID</th>
              <th>Role</th>
              <th>Prefix</th>
              <th>Created</th>
              <th>Last used</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id} data-testid={`key-${k.id}`}>
                <td>{k.name}</td>
                <td className="mono">{k.id}</td>
                <td>{k.role}</td>
                <td className="mono">{k.prefix}…</td>
                <td>{dateTime(k.createdAt)}</td>
                <td>{age(k.lastUsedAt)}</td>
                <td>
                  <StateBadge state={k.revokedAt ? 'revoked' : 'active'} />
                </td>
                <td>
                  {!k.revokedAt && (
                    <button type="button" className="danger" data-testid="revoke" onClick={() => void revoke(k.id, k.name)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
