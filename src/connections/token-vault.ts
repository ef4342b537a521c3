import type { Store } from '../store/store.ts';
import type { SecretBox } from '../security/envelope.ts';
import type { TokenSet, TokenVault } from '../partners/partner.ts';
import type { PartnerDescriptor } from '../partners/descriptor.ts';

/** Fallback when a partner is unknown: 90 days, what Microsoft's ITSMC guide tells users to configure. */
const FALLBACK_REFRESH_SECONDS = 90 * 86400;

export interface RefreshLifetime {
  seconds: number;
  /** Set on the connection, ITSMC_REFRESH_TOKEN_LIFETIME_S, or the partner's documented default. */
  source: 'connection' | 'environment' | 'partner default';
}

/** Refresh-token lifetime to assume: the connection's own, else ITSMC_REFRESH_TOKEN_LIFETIME_S, else the partner's default. */
export function refreshLifetime(partner: Pick<PartnerDescriptor, 'tokens'> | undefined, own?: number | null): RefreshLifetime {
  if (own) return { seconds: own, source: 'connection' };
  const env = Number(process.env.ITSMC_REFRESH_TOKEN_LIFETIME_S);
  if (Number.isInteger(env) && env > 0) return { seconds: env, source: 'environment' };
  return { seconds: partner?.tokens.refreshSeconds || FALLBACK_REFRESH_SECONDS, source: 'partner default' };
}

/** The same in milliseconds, without a connection setting. */
export function refreshLifetimeMs(partner: Pick<PartnerDescriptor, 'tokens'> | undefined): number {
  return refreshLifetime(partner).seconds * 1000;
}

export const tokensAad = (connectionId: string) => `connection:${connectionId}:tokens`;
export const clientSecretAad = (connectionId: string) => `connection:${connectionId}:clientSecret`;

/**
 * Keeps a connection's tokens encrypted in the store; the client sees plaintext only in memory. `lifetimeS` is
 * read when a token is saved (the connection's setting may have changed since the client was made).
 */
export function storeTokenVault(store: Store, box: SecretBox, connectionId: string, lifetimeS: () => Promise<number>): TokenVault {
  return {
    async load() {
      const row = await store.connections.getById(connectionId);
      return row?.tokens_enc ? (JSON.parse(box.decrypt(row.tokens_enc, tokensAad(connectionId))) as TokenSet) : null;
    },
    async save(tokens) {
      const stamped = await withRefreshExpiry(tokens, () => this.load(), await lifetimeS());
      await store.connections.update(connectionId, { tokens_enc: box.encrypt(JSON.stringify(stamped), tokensAad(connectionId)) });
    },
  };
}

/**
 * Some token answers (ServiceNow's) do not say when the refresh token expires. We stamp when a new refresh token
 * was issued and when it expires, from the connection's refresh token lifetime, so the connection can warn
 * before it runs out and re-date it when the lifetime setting changes.
 */
export async function withRefreshExpiry(tokens: TokenSet, previous: () => Promise<TokenSet | null>, lifetimeS: number): Promise<TokenSet> {
  if (!tokens.refreshToken) return tokens;
  const before = await previous().catch(() => null);
  if (before?.refreshToken === tokens.refreshToken && (tokens.refreshExpiresAt ?? before.refreshExpiresAt)) {
    const issuedAt = tokens.refreshIssuedAt ?? before.refreshIssuedAt;
    return { ...tokens, refreshExpiresAt: tokens.refreshExpiresAt ?? before.refreshExpiresAt, ...(issuedAt ? { refreshIssuedAt: issuedAt } : {}) };
  }
  if (tokens.refreshExpiresAt) return tokens;
  const now = Date.now();
  return { ...tokens, refreshIssuedAt: now, refreshExpiresAt: now + lifetimeS * 1000 };
}

/** The same tokens with the refresh token's expiry computed again from a new lifetime. */
export function redated(tokens: TokenSet, lifetimeS: number): TokenSet {
  if (!tokens.refreshIssuedAt) return tokens;
  return { ...tokens, refreshExpiresAt: tokens.refreshIssuedAt + lifetimeS * 1000 };
}

/** Holds tokens in memory until the connection row exists (the first login happens before the insert). */
export function memoryTokenVault(lifetimeS = FALLBACK_REFRESH_SECONDS): TokenVault & { current: TokenSet | null } {
  const vault = {
    current: null as TokenSet | null,
    async load() {
      return vault.current;
    },
    async save(tokens: TokenSet) {
      vault.current = await withRefreshExpiry(tokens, async () => vault.current, lifetimeS);
    },
  };
  return vault;
}
