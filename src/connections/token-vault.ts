import type { Store } from '../store/store.ts';
import type { SecretBox } from '../security/envelope.ts';
import type { TokenSet, TokenVault } from '../partners/partner.ts';

export const tokensAad = (connectionId: string) => `connection:${connectionId}:tokens`;
export const clientSecretAad = (connectionId: string) => `connection:${connectionId}:clientSecret`;

/** Keeps a connection's tokens encrypted in the store; the client sees plaintext only in memory. */
export function storeTokenVault(store: Store, box: SecretBox, connectionId: string): TokenVault {
  return {
    async load() {
      const row = await store.connections.getById(connectionId);
      return row?.tokens_enc ? (JSON.parse(box.decrypt(row.tokens_enc, tokensAad(connectionId))) as TokenSet) : null;
    },
    async save(tokens) {
      const stamped = await withRefreshExpiry(tokens, () => this.load());
      await store.connections.update(connectionId, { tokens_enc: box.encrypt(JSON.stringify(stamped), tokensAad(connectionId)) });
    },
  };
}

/**
 * ServiceNow's token response does not say when the refresh token expires. We stamp the expiry when a new
 * refresh token is issued, assuming the instance default lifespan (8,640,000 s; ITSMC_REFRESH_TOKEN_LIFETIME_S
 * overrides it), so the connection can warn before it runs out.
 */
export async function withRefreshExpiry(tokens: TokenSet, previous: () => Promise<TokenSet | null>): Promise<TokenSet> {
  if (!tokens.refreshToken || tokens.refreshExpiresAt) return tokens;
  const before = await previous().catch(() => null);
  if (before?.refreshToken === tokens.refreshToken && before.refreshExpiresAt) return { ...tokens, refreshExpiresAt: before.refreshExpiresAt };
  const lifetimeS = Number(process.env.ITSMC_REFRESH_TOKEN_LIFETIME_S) || 8_640_000;
  return { ...tokens, refreshExpiresAt: Date.now() + lifetimeS * 1000 };
}

/** Holds tokens in memory until the connection row exists (the first login happens before the insert). */
export function memoryTokenVault(): TokenVault & { current: TokenSet | null } {
  const vault = {
    current: null as TokenSet | null,
    async load() {
      return vault.current;
    },
    async save(tokens: TokenSet) {
      vault.current = await withRefreshExpiry(tokens, async () => vault.current);
    },
  };
  return vault;
}
