/**
 * `POST /oauth_token.do` grants (password, refresh_token) and bearer-token lookup, per partner-apis.md
 * §1.1: the same access token is returned while it is valid (and its expiry pushed out), a password
 * grant also extends the current refresh token, failures are 401 `{"error_description":"access_denied",
 * "error":"server_error"}`. Tokens live in the sandbox's own `sb_token` table.
 */
import { randomBytes } from 'node:crypto';
import type { OAuthSettings } from './config.ts';
import { DEFAULT_OAUTH } from './config.ts';
import { verifyPassword } from '../common/passwords.ts';
import type { Rec, SnStore } from './store.ts';

export const TOKEN_ERROR = { error_description: 'access_denied', error: 'server_error' };

interface TokenRow {
  token: string;
  kind: string;
  user_sys_id: string;
  client_id: string;
  refresh_token: string | null;
  expires_at: number;
  revoked: number;
}

export interface GrantResult {
  status: number;
  body: Record<string, unknown>;
  grant?: 'password' | 'refresh_token';
}

function newToken(): string {
  return randomBytes(64).toString('base64url');
}

function usable(user: Rec | undefined): user is Rec {
  return !!user && Number(user.active ?? 1) === 1 && Number(user.locked_out ?? 0) === 0;
}

export class OAuthService {
  settings: OAuthSettings = { ...DEFAULT_OAUTH };

  constructor(private readonly store: SnStore) {}

  private fail(): GrantResult {
    return { status: this.settings.errorStatus, body: { ...TOKEN_ERROR } };
  }

  private lifetimes(client: Rec): { access: number; refresh: number } {
    const a = Number(client.access_token_lifespan);
    const r = Number(client.refresh_token_lifespan);
    return {
      access: Number.isFinite(a) && a > 0 ? a : this.settings.accessTokenLifetimeSec,
      refresh: Number.isFinite(r) && r > 0 ? r : this.settings.refreshTokenLifetimeSec,
    };
  }

  private client(form: URLSearchParams): Rec | undefined {
    const id = form.get('client_id');
    const secret = form.get('client_secret');
    if (!id || secret === null) return undefined;
    const c = this.store.findClient(id);
    if (!c || Number(c.active ?? 1) !== 1 || String(c.client_secret ?? '') !== secret) return undefined;
    return c;
  }

  private current(userSysId: string, clientId: string, kind: string, nowMs: number): TokenRow | undefined {
    return this.store
      .stmt(
        `SELECT * FROM sb_token WHERE user_sys_id = ? AND client_id = ? AND kind = ? AND revoked = 0 AND expires_at > ?
         ORDER BY created_at DESC LIMIT 1`,
      )
      .get(userSysId, clientId, kind, nowMs) as TokenRow | undefined;
  }

  private issue(kind: string, userSysId: string, clientId: string, lifetimeSec: number, nowMs: number, refresh?: string): string {
    const token = newToken();
    this.store
      .stmt(
        `INSERT INTO sb_token (token, kind, user_sys_id, client_id, refresh_token, expires_at, revoked, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?)`,
      )
      .run(token, kind, userSysId, clientId, refresh ?? null, nowMs + lifetimeSec * 1000, nowMs);
    return token;
  }

  private extend(token: string, lifetimeSec: number, nowMs: number): void {
    this.store.stmt('UPDATE sb_token SET expires_at = ? WHERE token = ?').run(nowMs + lifetimeSec * 1000, token);
  }

  private accessFor(userSysId: string, clientId: string, life: number, refresh: string, nowMs: number): string {
    if (this.settings.reuseValidAccessToken) {
      const cur = this.current(userSysId, clientId, 'access', nowMs);
      if (cur) {
        this.extend(cur.token, life, nowMs);
        return cur.token;
      }
    }
    return this.issue('access', userSysId, clientId, life, nowMs, refresh);
  }

  async grant(form: URLSearchParams, nowMs: number, refreshEcho: boolean): Promise<GrantResult> {
    const grantType = form.get('grant_type');
    if (grantType === 'password') {
      const client = this.client(form);
      if (!client) return this.fail();
      const user = this.store.findUser(form.get('username') ?? '');
      if (!usable(user)) return this.fail();
      if (!(await verifyPassword(form.get('password') ?? '', user.user_password))) return this.fail();
      const userSysId = String(user.sys_id);
      const clientId = String(client.client_id);
      const life = this.lifetimes(client);
      let refresh = this.current(userSysId, clientId, 'refresh', nowMs)?.token;
      if (refresh) this.extend(refresh, life.refresh, nowMs);
      else refresh = this.issue('refresh', userSysId, clientId, life.refresh, nowMs);
      const access = this.accessFor(userSysId, clientId, life.access, refresh, nowMs);
      return {
        status: 200,
        grant: 'password',
        body: { scope: 'useraccount', token_type: 'Bearer', expires_in: life.access, refresh_token: refresh, access_token: access },
      };
    }
    if (grantType === 'refresh_token') {
      const client = this.client(form);
      if (!client) return this.fail();
      const rt = this.store.stmt(`SELECT * FROM sb_token WHERE token = ? AND kind = 'refresh'`).get(form.get('refresh_token') ?? '') as TokenRow | undefined;
      if (!rt || rt.revoked || rt.expires_at <= nowMs || rt.client_id !== String(client.client_id)) return this.fail();
      const user = this.store.userById(rt.user_sys_id);
      if (!usable(user)) return this.fail();
      const life = this.lifetimes(client);
      const access = this.accessFor(rt.user_sys_id, rt.client_id, life.access, rt.token, nowMs);
      const body: Record<string, unknown> = { scope: 'useraccount', token_type: 'Bearer', expires_in: life.access };
      if (refreshEcho) body.refresh_token = rt.token;
      body.access_token = access;
      return { status: 200, grant: 'refresh_token', body };
    }
    return this.fail();
  }

  /** The sys_user row behind a valid access token, or undefined. */
  userForAccessToken(token: string, nowMs: number): Rec | undefined {
    const row = this.store.stmt(`SELECT * FROM sb_token WHERE token = ? AND kind = 'access'`).get(token) as TokenRow | undefined;
    if (!row || row.revoked || row.expires_at <= nowMs) return undefined;
    const user = this.store.userById(row.user_sys_id);
    return usable(user) ? user : undefined;
  }

  /** Revokes one token; revoking a refresh token also revokes the access tokens issued from it. */
  revoke(token: string): boolean {
    const r = this.store.stmt('UPDATE sb_token SET revoked = 1 WHERE token = ?').run(token);
    this.store.stmt('UPDATE sb_token SET revoked = 1 WHERE refresh_token = ?').run(token);
    return r.changes > 0;
  }

  expireAccessTokens(nowMs: number): number {
    return this.store.stmt(`UPDATE sb_token SET expires_at = ? WHERE kind = 'access' AND expires_at > ?`).run(nowMs - 1, nowMs).changes;
  }

  revokeAll(): number {
    return this.store.stmt('UPDATE sb_token SET revoked = 1 WHERE revoked = 0').run().changes;
  }
}
