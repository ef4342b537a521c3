import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { WorkspaceService } from '../../workspaces/service.ts';
import { WsParams } from './params.ts';

const WorkspaceView = Type.Object({ name: Type.String(), createdAt: Type.String() });
const ApiKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  createdAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

export function workspaceRoutes(workspaces: WorkspaceService) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['workspaces'];

    app.get(
      '/api/v1/workspaces',
      { config: { access: 'admin' }, schema: { tags, response: { 200: Type.Object({ value: Type.Array(WorkspaceView) }) } } },
      async () => ({
        value: await workspaces.list(),
      }),
    );

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

    app.put(
      '/api/v1/workspaces/:ws',
      { config: { access: 'admin' }, schema: { tags, params: WsParams, response: { 200: WorkspaceView, 201: WorkspaceView } } },
      async (req, reply) => {
        const { view, created } = await workspaces.ensure(req.params.ws);
        return reply.status(created ? 201 : 200).send(view);
      },
    );

    app.get('/api/v1/workspaces/:ws', { config: { access: 'reader' }, schema: { tags, params: WsParams, response: { 200: WorkspaceView } } }, async (req) =>
      workspaces.get(req.params.ws),
    );

    app.delete('/api/v1/workspaces/:ws', { config: { access: 'admin' }, schema: { tags, params: WsParams } }, async (req, reply) => {
      await workspaces.delete(req.params.ws);
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
          body: Type.Object(
            { name: Type.String({ minLength: 1, maxLength: 100 }), role: Type.Union([Type.Literal('reader'), Type.Literal('contributor')]) },
            { additionalProperties: false },
          ),
          response: {
            201: Type.Object({
              id: Type.String(),
              name: Type.String(),
              role: Type.String(),
              key: Type.String({ description: 'shown once; only its hash is stored' }),
            }),
          },
        },
      },
      async (req, reply) => reply.status(201).send(await workspaces.createKey(req.params.ws, req.body.name, req.body.role)),
    );

    app.get(
      '/api/v1/workspaces/:ws/apiKeys',
      { config: { access: 'contributor' }, schema: { tags: keyTags, params: WsParams, response: { 200: Type.Object({ value: Type.Array(ApiKeyView) }) } } },
      async (req) => ({
        value: await workspaces.listKeys(req.params.ws),
      }),
    );

    app.delete(
      '/api/v1/workspaces/:ws/apiKeys/:id',
      { config: { access: 'contributor' }, schema: { tags: keyTags, params: Type.Object({ ws: WsParams.properties.ws, id: Type.String({ maxLength: 64 }) }) } },
      async (req, reply) => {
        await workspaces.revokeKey(req.params.ws, req.params.id);
        return reply.status(204).send();
      },
    );
  };
}
