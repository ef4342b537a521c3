import type { Store } from '../store/store.ts';
import type { SecretBox } from '../security/envelope.ts';
import type { TokenSet, TokenVault } from '../partners/partner.ts';
import type { PartnerDescriptor } from '../partners/descriptor.ts';

/** Fallback when a partner is unknown: 90 days, what Microsoft's ITSMC guide tells users to configure. */
const FALLBACK_REFRESH_SECONDS = 90 * 86400;

/** Refresh-token lifetime to assume: ITSMC_REFRESH_TOKEN_LIFETIME_S, else the partner's default. */
export function refreshLifetimeMs(partner: Pick<PartnerDescriptor, 'tokens'> | undefined): number {
  const seconds = Number(process.env.ITSMC_REFRESH_TOKEN_LIFETIME_S) || partner?.tokens.refreshSeconds || FALLBACK_REFRESH_SECONDS;
  return seconds * 1000;
}

export const tokensAad = (connectionId: string) => `connection:${connectionId}:tokens`;
export const clientSecretAad = (connectionId: string) => `connection:${connectionId}:clientSecret`;

/** Keeps a connection's tokens encrypted in the store; the client sees plaintext only in memory. */
export function storeTokenVault(store: Store, box: SecretBox, connectionId: string, refreshLifetime: number): TokenVault {
  return {
    async load() {
      const row = await store.connections.getById(connectionId);
      return row?.tokens_enc ? (JSON.parse(box.decrypt(row.tokens_enc, tokensAad(connectionId))) as TokenSet) : null;
    },
    async save(tokens) {
      const stamped = await withRefreshExpiry(tokens, () => this.load(), refreshLifetime);
      await store.connections.update(connectionId, { tokens_enc: box.encrypt(JSON.stringify(stamped), tokensAad(connectionId)) });
    },
  };
}

/**
 * Some token answers do not say when the refresh token expires. We stamp the expiry when a new refresh token
 * is issued, assuming `refreshLifetime` (ms; see refreshLifetimeMs), so the connection can warn before it runs out.
 */
export async function withRefreshExpiry(tokens: TokenSet, previous: () => Promise<TokenSet | null>, refreshLifetime: number): Promise<TokenSet> {
  if (!tokens.refreshToken || tokens.refreshExpiresAt) return tokens;
  const before = await previous().catch(() => null);
  if (before?.refreshToken === tokens.refreshToken && before.refreshExpiresAt) return { ...tokens, refreshExpiresAt: before.refreshExpiresAt };
  return { ...tokens, refreshExpiresAt: Date.now() + refreshLifetime };
}

/** Holds tokens in memory until the connection row exists (the first login happens before the insert). */
export function memoryTokenVault(refreshLifetime = FALLBACK_REFRESH_SECONDS * 1000): TokenVault & { current: TokenSet | null } {
  const vault = {
    current: null as TokenSet | null,
    async load() {
      return vault.current;
    },
    async save(tokens: TokenSet) {
      vault.current = await withRefreshExpiry(tokens, async () => vault.current, refreshLifetime);
    },
  };
  return vault;
}
