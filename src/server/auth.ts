import type { FastifyRequest } from 'fastify';
import type { Store } from '../store/store.ts';
import { hashToken, sameToken } from '../security/keys.ts';
import { forbidden, unauthorized } from './errors.ts';

/** `authenticated`: the admin token or any workspace API key (routes outside a workspace that every caller may read). */
export type Access = 'public' | 'authenticated' | 'reader' | 'contributor' | 'admin';

export type Principal = { kind: 'admin' } | { kind: 'workspace-key'; keyId: string; workspace: string; role: 'reader' | 'contributor' };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Who may call the route; routes under /api/v1 default to 'contributor'. */
    access?: Access;
  }
}

const rank: Record<Exclude<Access, 'public' | 'authenticated'>, number> = { reader: 1, contributor: 2, admin: 3 };

/**
 * Resolves the bearer token to the admin or a workspace API key, then checks the route's access level
 * and, for workspace keys, that the route's `{ws}` is the key's own workspace.
 */
export function makeAuthorizer(store: Store, adminToken: string) {
  return async function authorize(req: FastifyRequest): Promise<void> {
    const access = req.routeOptions.config?.access ?? 'contributor';
    if (access === 'public') return;
    const token = bearerToken(req.headers.authorization);
    if (!token) throw unauthorized('missing Authorization: Bearer <token>');
    const principal = await resolvePrincipal(store, adminToken, token);
    if (!principal) throw unauthorized('the bearer token is not valid (unknown, revoked or mistyped)');
    req.principal = principal;
    if (principal.kind === 'admin' || access === 'authenticated') return;
    if (access === 'admin') throw forbidden('this operation needs the admin token');
    const workspace = (req.params as Record<string, string> | undefined)?.ws;
    if (workspace !== undefined && workspace !== principal.workspace) {
      throw forbidden(`this API key belongs to workspace '${principal.workspace}', not '${workspace}'`);
    }
    if (workspace === undefined) throw forbidden('workspace API keys can only call routes of their own workspace');
    if (rank[principal.role] < rank[access]) throw forbidden(`this operation needs role '${access}'; the key has role '${principal.role}'`);
  };
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1] : null;
}

async function resolvePrincipal(store: Store, adminToken: string, token: string): Promise<Principal | null> {
  if (sameToken(token, adminToken)) return { kind: 'admin' };
  const key = await store.apiKeys.findActiveByHash(hashToken(token));
  return key ? { kind: 'workspace-key', keyId: key.id, workspace: key.workspace, role: key.role } : null;
}
