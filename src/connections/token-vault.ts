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
      await store.connections.update(connectionId, { tokens_enc: box.encrypt(JSON.stringify(tokens), tokensAad(connectionId)) });
    },
  };
}

/** Holds tokens in memory until the connection row exists (the first login happens before the insert). */
export function memoryTokenVault(): TokenVault & { current: TokenSet | null } {
  const vault = {
    current: null as TokenSet | null,
    async load() {
      return vault.current;
    },
    async save(tokens: TokenSet) {
      vault.current = tokens;
    },
  };
  return vault;
}
