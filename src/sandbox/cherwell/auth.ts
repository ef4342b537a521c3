/**
 * `POST /CherwellAPI/token` and bearer lookup (partner-apis.md §2.1). A password grant opens a login
 * session, and every open session holds one CSM licence until it is logged out or its refresh token
 * lapses; a refresh grant continues the session. Token lifespans come from the REST API client record.
 */
import { randomBytes } from 'node:crypto';
import { verifyPassword } from '../common/passwords.ts';
import type { CherwellRules } from './config.ts';
import type { CwStore } from './store.ts';

export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

interface ClientRow {
  client_id: string;
  access_minutes: number;
  refresh_minutes: number;
  enabled: number;
}

interface TokenRow {
  token: string;
  kind: 'access' | 'refresh';
  session_id: string;
  expires_ms: number;
  revoked: number;
}

export interface LicenceStats {
  logins: number;
  refreshes: number;
  logouts: number;
  refusedLogins: number;
  refusedForLicence: number;
  peakSessions: number;
}

export interface Session {
  sessionId: string;
  login: string;
}

const newToken = (): string => randomBytes(48).toString('base64url');

export class AuthService {
  stats: LicenceStats = AuthService.zero();

  constructor(
    private readonly store: CwStore,
    private readonly rules: () => CherwellRules,
  ) {}

  static zero(): LicenceStats {
    return { logins: 0, refreshes: 0, logouts: 0, refusedLogins: 0, refusedForLicence: 0, peakSessions: 0 };
  }

  private refuse(error: string, description: string): TokenAnswer {
    return { status: this.rules().tokenErrorStatus, body: { error, error_description: description } };
  }

  activeSessions(nowMs: number): number {
    return (this.store.stmt('SELECT count(*) AS n FROM cw_session WHERE ended = 0 AND ends_ms > ?').get(nowMs) as { n: number }).n;
  }

  async grant(form: URLSearchParams, apiKey: string | null, nowMs: number): Promise<TokenAnswer> {
    const clientId = form.get('client_id') ?? apiKey ?? '';
    const client = this.store.stmt('SELECT * FROM cw_client WHERE client_id = ?').get(clientId) as ClientRow | undefined;
    if (!client || !client.enabled) return this.refuse('invalid_client_id', 'client_id is not set or is not a valid REST API client key');
    const grantType = form.get('grant_type');
    if (grantType === 'password') return this.passwordGrant(form, client, nowMs);
    if (grantType === 'refresh_token') return this.refreshGrant(form.get('refresh_token') ?? '', client, nowMs);
    return this.refuse('unsupported_grant_type', 'grant_type must be password or refresh_token');
  }

  private async passwordGrant(form: URLSearchParams, client: ClientRow, nowMs: number): Promise<TokenAnswer> {
    const login = (form.get('username') ?? '').replace(/^[^\\]*\\/, '');
    const user = this.store.stmt('SELECT * FROM cw_user WHERE login = ?').get(login) as { login: string; password_hash: string } | undefined;
    if (!user || !(await verifyPassword(form.get('password') ?? '', user.password_hash))) {
      this.stats.refusedLogins++;
      return this.refuse('invalid_grant', 'BADCREDENTIALS: the user name or password is incorrect');
    }
    const cap = this.rules().licenceCap;
    if (cap !== null && this.activeSessions(nowMs) >= cap) {
      this.stats.refusedLogins++;
      this.stats.refusedForLicence++;
      return this.refuse('invalid_grant', `LICENSEEXCEEDED: all ${cap} CSM licences are in use`);
    }
    const sessionId = newToken();
    this.store
      .stmt('INSERT INTO cw_session (session_id, login, client_id, created_ms, ends_ms) VALUES (?, ?, ?, ?, ?)')
      .run(sessionId, user.login, client.client_id, nowMs, nowMs + client.refresh_minutes * 60_000);
    this.stats.logins++;
    this.stats.peakSessions = Math.max(this.stats.peakSessions, this.activeSessions(nowMs));
    return this.issue(sessionId, user.login, client, nowMs, newToken());
  }

  private refreshGrant(refreshToken: string, client: ClientRow, nowMs: number): TokenAnswer {
    const row = this.store.stmt(`SELECT * FROM cw_token WHERE token = ? AND kind = 'refresh'`).get(refreshToken) as TokenRow | undefined;
    const session = row
      ? (this.store.stmt('SELECT * FROM cw_session WHERE session_id = ?').get(row.session_id) as
          { login: string; client_id: string; ended: number } | undefined)
      : undefined;
    if (!row || row.revoked || row.expires_ms <= nowMs || !session || session.ended || session.client_id !== client.client_id) {
      return this.refuse('invalid_grant', 'The refresh token is invalid or has expired');
    }
    this.stats.refreshes++;
    let refresh = refreshToken;
    if (this.rules().rotateRefreshToken) {
      this.store.stmt('UPDATE cw_token SET revoked = 1 WHERE token = ?').run(refreshToken);
      refresh = newToken();
    }
    this.store.stmt('UPDATE cw_session SET ends_ms = ? WHERE session_id = ?').run(nowMs + client.refresh_minutes * 60_000, row.session_id);
    return this.issue(row.session_id, session.login, client, nowMs, refresh);
  }

  private issue(sessionId: string, login: string, client: ClientRow, nowMs: number, refresh: string): TokenAnswer {
    const access = newToken();
    const accessMs = client.access_minutes * 60_000;
    const ins = this.store.stmt('INSERT OR REPLACE INTO cw_token (token, kind, session_id, expires_ms, revoked) VALUES (?, ?, ?, ?, 0)');
    ins.run(access, 'access', sessionId, nowMs + accessMs);
    ins.run(refresh, 'refresh', sessionId, nowMs + client.refresh_minutes * 60_000);
    const issued = Math.floor(nowMs / 1000) * 1000;
    return {
      status: 200,
      body: {
        access_token: access,
        token_type: 'bearer',
        expires_in: Math.max(0, accessMs / 1000 - 1),
        refresh_token: refresh,
        'as:client_id': client.client_id,
        username: login,
        '.issued': new Date(issued).toUTCString(),
        '.expires': new Date(issued + accessMs).toUTCString(),
      },
    };
  }

  /** The session behind a live access token. */
  session(accessToken: string, nowMs: number): Session | undefined {
    const row = this.store
      .stmt(
        `SELECT t.session_id, s.login FROM cw_token t JOIN cw_session s ON s.session_id = t.session_id
         WHERE t.token = ? AND t.kind = 'access' AND t.revoked = 0 AND t.expires_ms > ? AND s.ended = 0`,
      )
      .get(accessToken, nowMs) as { session_id: string; login: string } | undefined;
    return row ? { sessionId: row.session_id, login: row.login } : undefined;
  }

  /** Ends a session: its licence is free again and its tokens stop working. */
  logout(sessionId: string): void {
    this.store.stmt('UPDATE cw_session SET ended = 1 WHERE session_id = ?').run(sessionId);
    this.store.stmt('UPDATE cw_token SET revoked = 1 WHERE session_id = ?').run(sessionId);
    this.stats.logouts++;
  }

  expireAccessTokens(nowMs: number): number {
    return this.store.stmt(`UPDATE cw_token SET expires_ms = ? WHERE kind = 'access' AND expires_ms > ?`).run(nowMs - 1, nowMs).changes;
  }

  endAllSessions(): number {
    this.store.stmt('UPDATE cw_token SET revoked = 1').run();
    return this.store.stmt('UPDATE cw_session SET ended = 1 WHERE ended = 0').run().changes;
  }

  clientLifespans(clientId: string): { accessMinutes: number; refreshMinutes: number } | undefined {
    const c = this.store.stmt('SELECT * FROM cw_client WHERE client_id = ?').get(clientId) as ClientRow | undefined;
    return c ? { accessMinutes: c.access_minutes, refreshMinutes: c.refresh_minutes } : undefined;
  }

  setClientLifespans(clientId: string, accessMinutes: number, refreshMinutes: number): boolean {
    return (
      this.store.stmt('UPDATE cw_client SET access_minutes = ?, refresh_minutes = ? WHERE client_id = ?').run(accessMinutes, refreshMinutes, clientId).changes >
      0
    );
  }
}
