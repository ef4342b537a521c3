import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Store } from '../../store/store.ts';
import { hashToken, newToken } from '../../security/keys.ts';
import { conflict, notFound } from '../errors.ts';
import { WsParams } from './params.ts';

const WorkspaceView = Type.Object({ name: Type.String(), createdAt: Type.String() });
const ApiKeyView = Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), createdAt: Type.String(), revokedAt: Type.Union([Type.String(), Type.Null()]) });

export function workspaceRoutes(store: Store) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['workspaces'];

    app.get('/api/v1/workspaces', { config: { access: 'admin' }, schema: { tags, response: { 200: Type.Object({ value: Type.Array(WorkspaceView) }) } } }, async () => ({
      value: (await store.workspaces.list()).map((w) => ({ name: w.name, createdAt: new Date(w.created_at).toISOString() })),
    }));

    app.get(
      '/api/v1/me',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          description: 'Who the bearer token is: the admin, or a workspace API key with its workspace and role (the dashboard hides what the role may not do).',
          response: { 200: Type.Object({ kind: Type.String(), workspace: Type.Union([Type.String(), Type.Null()]), role: Type.String() }) },
        },
      },
      async (req) => {
        const p = req.principal!;
        return p.kind === 'admin' ? { kind: 'admin', workspace: null, role: 'admin' } : { kind: p.kind, workspace: p.workspace, role: p.role };
      },
    );

    app.put('/api/v1/workspaces/:ws', { config: { access: 'admin' }, schema: { tags, params: WsParams, response: { 200: WorkspaceView, 201: WorkspaceView } } }, async (req, reply) => {
      const { created } = await store.workspaces.ensure(req.params.ws);
      const ws = (await store.workspaces.get(req.params.ws))!;
      return reply.status(created ? 201 : 200).send({ name: ws.name, createdAt: new Date(ws.created_at).toISOString() });
    });

    app.get('/api/v1/workspaces/:ws', { config: { access: 'reader' }, schema: { tags, params: WsParams, response: { 200: WorkspaceView } } }, async (req) => {
      const ws = await store.workspaces.get(req.params.ws);
      if (!ws) throw notFound(`workspace '${req.params.ws}' does not exist`);
      return { name: ws.name, createdAt: new Date(ws.created_at).toISOString() };
    });

    app.delete('/api/v1/workspaces/:ws', { config: { access: 'admin' }, schema: { tags, params: WsParams } }, async (req, reply) => {
      if (req.params.ws === 'default') throw conflict("the workspace 'default' always exists and cannot be deleted");
      if (!(await store.workspaces.delete(req.params.ws))) throw notFound(`workspace '${req.params.ws}' does not exist`);
      return reply.status(204).send();
    });

    const keyTags = ['api keys'];
    app.post(
      '/api/v1/workspaces/:ws/apiKeys',
      {
        config: { access: 'contributor' },
        schema: {
          tags: keyTags,
          params: WsParams,
          body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Type.Union([Type.Literal('reader'), Type.Literal('contributor')]) }, { additionalProperties: false }),
          response: { 201: Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), key: Type.String({ description: 'shown once; only its hash is stored' }) }) },
        },
      },
      async (req, reply) => {
        if (!(await store.workspaces.get(req.params.ws))) throw notFound(`workspace '${req.params.ws}' does not exist`);
        const key = newToken('itsmk');
        const id = randomUUID();
        await store.apiKeys.insert({ id, workspace: req.params.ws, name: req.body.name, role: req.body.role, token_hash: hashToken(key), created_at: Date.now(), revoked_at: null });
        return reply.status(201).send({ id, name: req.body.name, role: req.body.role, key });
      },
    );

    app.get('/api/v1/workspaces/:ws/apiKeys', { config: { access: 'contributor' }, schema: { tags: keyTags, params: WsParams, response: { 200: Type.Object({ value: Type.Array(ApiKeyView) }) } } }, async (req) => ({
      value: (await store.apiKeys.list(req.params.ws)).map((k) => ({
        id: k.id,
        name: k.name,
        role: k.role,
        createdAt: new Date(k.created_at).toISOString(),
        revokedAt: k.revoked_at ? new Date(k.revoked_at).toISOString() : null,
      })),
    }));

    app.delete(
      '/api/v1/workspaces/:ws/apiKeys/:id',
      { config: { access: 'contributor' }, schema: { tags: keyTags, params: Type.Object({ ws: WsParams.properties.ws, id: Type.String({ maxLength: 64 }) }) } },
      async (req, reply) => {
        if (!(await store.apiKeys.revoke(req.params.ws, req.params.id))) throw notFound(`API key '${req.params.id}' does not exist or is already revoked`);
        return reply.status(204).send();
      },
    );
  };
}
