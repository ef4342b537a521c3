import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, session } from './lib/api';
import { navigate, useLocation } from './lib/router';
import { SessionContext, type Me, type SessionValue } from './lib/session';
import { SignIn } from './pages/SignIn';
import { ErrorBox, Link, Loading } from './components/ui';

const NAV = [
  { path: '/overview', label: 'Overview', load: () => import('./pages/Overview') },
  { path: '/connections', label: 'Connections', load: () => import('./pages/Connections') },
  { path: '/action-groups', label: 'Action groups', load: () => import('./pages/ActionGroups') },
  { path: '/logs', label: 'Log search', load: () => import('./pages/LogSearch') },
  { path: '/computers', label: 'Computers', load: () => import('./pages/Computers') },
  { path: '/delivery', label: 'Delivery', load: () => import('./pages/Delivery') },
];
const PAGES = new Map(NAV.map((n) => [n.path, lazy(n.load)]));
const pageOf = (path: string) => NAV.find((n) => path === n.path || path.startsWith(n.path + '/')) ?? NAV[0];

// The page's code downloads while the session is checked, not after.
if (session.token()) void pageOf(location.pathname).load();

type Theme = 'light' | 'dark';
function initialTheme(): Theme {
  const saved = localStorage.getItem('itsmc.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const [token, setToken] = useState(session.token());
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem('itsmc.theme', next);
    setTheme(next);
  };
  if (!token) return <SignIn onSignedIn={(t) => setToken(t)} />;
  return <SignedIn key={token} theme={theme} toggleTheme={toggleTheme} onSignOut={() => setToken(null)} />;
}

function SignedIn({ theme, toggleTheme, onSignOut }: { theme: Theme; toggleTheme(): void; onSignOut(): void }) {
  const qc = useQueryClient();
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/api/v1/me') });
  // Asked together with `me` (one round trip less); a workspace key is refused it and uses its own workspace.
  const workspaces = useQuery({
    queryKey: ['workspaces'],
    queryFn: async () => (await api<{ value: { name: string }[] }>('/api/v1/workspaces')).value.map((w) => w.name),
    retry: false,
  });
  const [workspace, setWs] = useState<string | null>(session.workspace());
  const signOut = useCallback(() => {
    session.clear();
    qc.clear();
    onSignOut();
  }, [qc, onSignOut]);

  useEffect(() => {
    if (me.error instanceof ApiError && me.error.status === 401) signOut();
  }, [me.error, signOut]);

  const value = useMemo<SessionValue | null>(() => {
    if (!me.data) return null;
    const list = me.data.kind === 'admin' ? (workspaces.data ?? []) : [me.data.workspace!];
    if (me.data.kind === 'admin' && !workspaces.data) return null;
    const ws = workspace && list.includes(workspace) ? workspace : list.includes('default') ? 'default' : list[0];
    return {
      me: me.data,
      workspace: ws,
      workspaces: list,
      canWrite: me.data.role !== 'reader',
      setWorkspace: (w: string) => {
        session.setWorkspace(w);
        setWs(w);
      },
      signOut,
    };
  }, [me.data, workspaces.data, workspace, signOut]);

  const { path } = useLocation();
  const page = pageOf(path);
  const Page = PAGES.get(page.path)!;
  useEffect(() => {
    if (path === '/' || path === '/signin') navigate('/overview', true);
  }, [path]);
  useEffect(() => {
    document.title = `${page.label} · OpenITSMC`;
  }, [page.label]);

  if (me.error && !(me.error instanceof ApiError && me.error.status === 401))
    return (
      <main className="center">
        <ErrorBox error={me.error} title="Could not reach the connector" />
      </main>
    );
  if (workspaces.error && me.data?.kind === 'admin')
    return (
      <main className="center">
        <ErrorBox error={workspaces.error} title="Could not list workspaces" />
      </main>
    );
  if (!value)
    return (
      <main className="center">
        <Loading what="your session" />
      </main>
    );

  return (
    <SessionContext.Provider value={value}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand" aria-label="OpenITSMC">
          <span aria-hidden="true">◆</span> OpenITSMC
        </div>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.path}>
                <Link to={n.path} className={page.path === n.path ? 'active' : ''} current={page.path === n.path}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="session">
          <label>
            <span className="sr-only">Workspace</span>
            <select aria-label="Workspace" value={value.workspace} onChange={(e) => value.setWorkspace(e.target.value)} disabled={value.workspaces.length < 2}>
              {value.workspaces.map((w) => (
                <option key={w} value={w}>
                  {w}
                </option>
              ))}
            </select>
          </label>
          <span className="role" title="What this token may do">
            {value.me.role}
          </span>
          <button type="button" className="ghost" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
            {theme === 'dark' ? '☀' : '☾'}
          </button>
          <button type="button" className="ghost" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" key={`${value.workspace}:${theme}`}>
        <Suspense fallback={<Loading what="page" />}>
          <Page />
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}
