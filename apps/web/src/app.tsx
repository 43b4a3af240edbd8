/**
 * The dashboard: a sign-in gate (the API key), then a nav bar and one page per concern. Pages
 * talk to the server only through the SDK client of `session.ts`.
 */
import { useMemo, useState } from 'react';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { ErrorBoundary } from './components/error-boundary';
import { ApiKeysPage } from './pages/api-keys';
import { AuditPage } from './pages/audit';
import { NodesPage } from './pages/nodes';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SandboxesPage } from './pages/sandboxes';
import { SignIn } from './pages/sign-in';
import { TemplatesPage } from './pages/templates';
import { UsagePage } from './pages/usage';
import { ClientContext, clearKey, clientFor, storeKey, storedKey } from './session';

/** The nav bar's entries: path and label. */
const NAV: readonly [string, string][] = [
  ['/runs', 'Runs'],
  ['/sandboxes', 'Sandboxes'],
  ['/nodes', 'Nodes'],
  ['/templates', 'Templates'],
  ['/api-keys', 'API keys'],
  ['/audit', 'Audit log'],
  ['/usage', 'Usage'],
];

function NavBar({ onSignOut }: { onSignOut(): void }) {
  const [location] = useLocation();
  return (
    <header className="nav">
      <span className="brand">Tartarus</span>
      <nav>
        {NAV.map(([path, label]) => (
          <Link
            key={path}
            href={path}
            className={location === path || location.startsWith(`${path}/`) ? 'active' : ''}
            data-testid={`nav-${path.slice(1)}`}
          >
            {label}
          </Link>
        ))}
      </nav>
      <button type="button" className="link" data-testid="sign-out" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}

function Pages() {
  return (
    <Switch>
      <Route path="/runs" component={RunsPage} />
      {/* Keyed by id: another run is a fresh page, never the previous run's state and logs. */}
      <Route path="/runs/:id">{(params) => <RunPage key={params.id} id={params.id} />}</Route>
      <Route path="/sandboxes" component={SandboxesPage} />
      <Route path="/nodes" component={NodesPage} />
      <Route path="/templates" component={TemplatesPage} />
      <Route path="/api-keys" component={ApiKeysPage} />
      <Route path="/audit" component={AuditPage} />
      <Route path="/usage" component={UsagePage} />
      <Route path="/">
        <Redirect to="/runs" replace />
      </Route>
      <Route>
        <p className="error" data-testid="error">
          No such page.
        </p>
      </Route>
    </Switch>
  );
}

/** The whole app. */
export function App() {
  const [apiKey, setApiKey] = useState(storedKey);
  const [location] = useLocation();
  const client = useMemo(() => (apiKey ? clientFor(apiKey) : null), [apiKey]);
  if (!client) {
    return (
      <SignIn
        onSignedIn={(key) => {
          storeKey(key);
          setApiKey(key);
        }}
      />
    );
  }
  const signOut = () => {
    clearKey();
    setApiKey(null);
  };
  return (
    <ClientContext.Provider value={client}>
      <NavBar onSignOut={signOut} />
      <main>
        <ErrorBoundary resetKey={location}>
          <Pages />
        </ErrorBoundary>
      </main>
    </ClientContext.Provider>
  );
}
