import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ConnectionService } from '../../connections/service.ts';
import { ConnectionInput, ConnectionPatch, ConnectionView } from '../../connections/model.ts';
import { DryRunQuery, WsNameParams, WsParams } from './params.ts';

export interface ConnectionRouteHooks {
  /** Names of action groups that use a connection (delete is refused while any do). */
  usedBy?: (workspace: string, connection: string) => Promise<string[]>;
}

export function connectionRoutes(service: ConnectionService, hooks: ConnectionRouteHooks = {}) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['connections'];
    app.addSchema(ConnectionInput);
    app.addSchema(ConnectionView);
    app.addSchema(ConnectionPatch);
    // PATCH takes a JSON merge patch (RFC 7396), sent as application/merge-patch+json or application/json.
    app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

    app.get(
      '/api/v1/workspaces/:ws/connections',
      { config: { access: 'reader' }, schema: { tags, params: WsParams, response: { 200: Type.Object({ value: Type.Array(Type.Ref('Connection')) }) } } },
      async (req) => ({
        value: await service.list(req.params.ws),
      }),
    );

    app.get(
      '/api/v1/workspaces/:ws/connections/:name',
      { config: { access: 'reader' }, schema: { tags, params: WsNameParams, response: { 200: Type.Ref('Connection') } } },
      async (req) => service.view(req.params.ws, req.params.name),
    );

    app.put(
      '/api/v1/workspaces/:ws/connections/:name',
      {
        config: { access: 'contributor' },
        schema: {
          tags,
          params: WsNameParams,
          querystring: DryRunQuery,
          body: Type.Ref('ConnectionInput'),
          response: { 200: Type.Ref('Connection'), 201: Type.Ref('Connection') },
        },
      },
      async (req, reply) => {
        const dryRun = req.query.dryRun === 'true';
        const { view, created } = await service.put(req.params.ws, req.params.name, req.body as ConnectionInput, { dryRun });
        return reply.status(created && !dryRun ? 201 : 200).send(view);
      },
    );

    app.patch(
      '/api/v1/workspaces/:ws/connections/:name',
      {
        config: { access: 'contributor' },
        schema: {
          tags,
          summary: 'Change some settings of a connection (JSON merge patch)',
          description:
            'Members given replace the stored value, null puts a setting back to its default, members left out are kept. Same checks and sign-in rules as PUT.',
          params: WsNameParams,
          body: Type.Ref('ConnectionPatch'),
          response: { 200: Type.Ref('Connection') },
        },
      },
      async (req) => service.patch(req.params.ws, req.params.name, req.body as Record<string, unknown>),
    );

    app.delete(
      '/api/v1/workspaces/:ws/connections/:name',
      {
        config: { access: 'contributor' },
        schema: { tags, params: WsNameParams, querystring: Type.Object({ force: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }) },
      },
      async (req, reply) => {
        const usedBy = (await hooks.usedBy?.(req.params.ws, req.params.name)) ?? [];
        await service.delete(req.params.ws, req.params.name, usedBy, req.query.force === 'true');
        return reply.status(204).send();
      },
    );

    app.get('/api/v1/workspaces/:ws/connections/:name/templates', { config: { access: 'reader' }, schema: { tags, params: WsNameParams } }, async (req) => ({
      value: (await service.configuration(req.params.ws, req.params.name)).templates,
    }));

    app.get(
      '/api/v1/workspaces/:ws/connections/:name/choices',
      {
        config: { access: 'reader' },
        schema: {
          tags,
          params: WsNameParams,
          querystring: Type.Object({ table: Type.Optional(Type.String({ maxLength: 80 })), field: Type.Optional(Type.String({ maxLength: 80 })) }),
        },
      },
      async (req) => ({
        value: (await service.configuration(req.params.ws, req.params.name)).choices.filter(
          (c) => (!req.query.table || c.table === req.query.table) && (!req.query.field || c.field === req.query.field),
        ),
      }),
    );

    app.post(
      '/api/v1/workspaces/:ws/connections/:name/test',
      { config: { access: 'contributor' }, schema: { tags, params: WsNameParams, response: { 200: Type.Ref('Connection') } } },
      async (req) => service.test(req.params.ws, req.params.name),
    );
  };
}
