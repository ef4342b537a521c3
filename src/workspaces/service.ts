/** Workspaces and their API keys: the application service the workspace routes call. */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../core/errors.ts';
import { hashToken, newToken } from '../security/keys.ts';
import type { Store } from '../store/store.ts';

export interface WorkspaceView {
  name: string;
  createdAt: string;
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  revokedAt: string | null;
}

export type ApiKeyRole = 'reader' | 'contributor';

const iso = (ms: number) => new Date(ms).toISOString();

export class WorkspaceService {
  constructor(private readonly store: Store) {}

  async list(): Promise<WorkspaceView[]> {
    return (await this.store.workspaces.list()).map((w) => ({ name: w.name, createdAt: iso(w.created_at) }));
  }

  async ensure(name: string): Promise<{ view: WorkspaceView; created: boolean }> {
    const { created } = await this.store.workspaces.ensure(name);
    return { view: await this.get(name), created };
  }

  async get(name: string): Promise<WorkspaceView> {
    const ws = await this.store.workspaces.get(name);
    if (!ws) throw new NotFoundError(`workspace '${name}' does not exist`);
    return { name: ws.name, createdAt: iso(ws.created_at) };
  }

  async exists(name: string): Promise<boolean> {
    return !!(await this.store.workspaces.get(name));
  }

  async delete(name: string): Promise<void> {
    if (name === 'default') throw new ConflictError("the workspace 'default' always exists and cannot be deleted");
    if (!(await this.store.workspaces.delete(name))) throw new NotFoundError(`workspace '${name}' does not exist`);
  }

  /** A new key; the key itself is returned once, only its hash is stored. */
  async createKey(workspace: string, name: string, role: ApiKeyRole): Promise<{ id: string; name: string; role: ApiKeyRole; key: string }> {
    await this.get(workspace);
    const key = newToken('itsmk');
    const id = randomUUID();
    await this.store.apiKeys.insert({ id, workspace, name, role, token_hash: hashToken(key), created_at: Date.now(), revoked_at: null });
    return { id, name, role, key };
  }

  async listKeys(workspace: string): Promise<ApiKeyView[]> {
    return (await this.store.apiKeys.list(workspace)).map((k) => ({
      id: k.id,
      name: k.name,
      role: k.role,
      createdAt: iso(k.created_at),
      revokedAt: k.revoked_at ? iso(k.revoked_at) : null,
    }));
  }

  async revokeKey(workspace: string, id: string): Promise<void> {
    if (!(await this.store.apiKeys.revoke(workspace, id))) throw new NotFoundError(`API key '${id}' does not exist or is already revoked`);
  }
}
