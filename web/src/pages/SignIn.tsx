import { useState, type FormEvent } from 'react';
import { api, ApiError, session } from '../lib/api';
import type { Me } from '../lib/session';

/** The admin token or a workspace API key, checked against the connector, then kept in session storage only. */
export function SignIn({ onSignedIn }: { onSignedIn(token: string): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError('Paste the admin token or a workspace API key.');
    setBusy(true);
    setError(null);
    try {
      const me = await api<Me>('/api/v1/me', { token: t });
      session.setToken(t);
      if (me.workspace) session.setWorkspace(me.workspace);
      onSignedIn(t);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'This token is not valid: it is unknown, revoked or mistyped.'
          : `Could not sign in: ${(err as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin" id="main">
      <form onSubmit={submit} className="card" aria-labelledby="signin-title" noValidate>
        <h1 id="signin-title">
          <span aria-hidden="true">◆</span> OpenITSMC
        </h1>
        <p className="muted">
          Sign in with the admin token (<code>data/admin.token</code>, printed by the first start) or a workspace API key.
        </p>
        <label htmlFor="token">Token or API key</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'token-error' : 'token-help'}
          autoFocus
        />
        <p id="token-help" className="help">
          Kept in this browser tab's session storage only; closing the tab signs you out.
        </p>
        {error && (
          <p id="token-error" className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
