import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ActionGroupService } from '../../actiongroups/service.ts';
import { ActionGroupInput, ActionGroupView, ItsmReceiverInput, type ActionGroupInput as ActionGroupInputT } from '../../actiongroups/model.ts';
import { TicketConfigurationSchema } from '../../actions/ticket-config.ts';
import type { IngestService } from '../../delivery/ingest.ts';
import { IngestResultSchema, ingestOrThrow } from './hooks.ts';
import { notFound } from '../errors.ts';
import { previewAction } from '../../actions/preview.ts';
import { DryRunQuery, WsNameParams, WsParams } from './params.ts';

export interface ActionGroupRouteDeps {
  groups: ActionGroupService;
  ingest: IngestService;
  /** ITSMC_PUBLIC_URL; else the request's own scheme and host. */
  publicUrl?: string;
}

/** Base URL for absolute webhook URLs. */
export function baseUrlOf(req: FastifyRequest, publicUrl?: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

/** Webhook URLs carry a secret: only contributors and the admin see them. */
function maySeeSecret(req: FastifyRequest): boolean {
  const p = req.principal;
  return !!p && (p.kind === 'admin' || p.role === 'contributor');
}

export function actionGroupRoutes(deps: ActionGroupRouteDeps) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['action groups'];
    app.addSchema(TicketConfigurationSchema);
    app.addSchema(ItsmReceiverInput);
    app.addSchema(ActionGroupInput);
    app.addSchema(ActionGroupView);
    const { groups } = deps;
    const path = '/api/v1/workspaces/:ws/actionGroups';

    app.get(
      path,
      { config: { access: 'reader' }, schema: { tags, params: WsParams, response: { 200: Type.Object({ value: Type.Array(Type.Ref('ActionGroup')) }) } } },
      async (req) => {
        const base = baseUrlOf(req, deps.publicUrl);
        return { value: (await groups.list(req.params.ws)).map((r) => groups.view(r, base, maySeeSecret(req))) };
      },
    );

    app.get(
      `${path}/:name`,
      { config: { access: 'reader' }, schema: { tags, params: WsNameParams, response: { 200: Type.Ref('ActionGroup') } } },
      async (req) => groups.view(await groups.get(req.params.ws, req.params.name), baseUrlOf(req, deps.publicUrl), maySeeSecret(req)),
    );

    app.put(
      `${path}/:name`,
      {
        config: { access: 'contributor' },
        schema: {
          tags,
          description:
            'Create or replace an action group. ticketConfiguration is checked against the connection’s synced templates and choice lists; a 400 lists every problem with the valid values.',
          params: WsNameParams,
          querystring: DryRunQuery,
          body: Type.Ref('ActionGroupInput'),
          response: { 200: Type.Ref('ActionGroup'), 201: Type.Ref('ActionGroup') },
        },
      },
      async (req, reply) => {
        const dryRun = req.query.dryRun === 'true';
        const { row, created } = await groups.put(req.params.ws, req.params.name, req.body as ActionGroupInputT, { dryRun });
        // A dry run creates no webhook secret, so it shows no webhook URL.
        return reply.status(created && !dryRun ? 201 : 200).send(groups.view(row, baseUrlOf(req, deps.publicUrl), !dryRun));
      },
    );

    app.delete(`${path}/:name`, { config: { access: 'contributor' }, schema: { tags, params: WsNameParams } }, async (req, reply) => {
      await groups.delete(req.params.ws, req.params.name);
      return reply.status(204).send();
    });

    app.post(
      `${path}/:name/rotateWebhookSecret`,
      {
        config: { access: 'contributor' },
        schema: {
          tags,
          description: 'New webhook secret; the old webhook URL stops working.',
          params: WsNameParams,
          response: { 200: Type.Ref('ActionGroup') },
        },
      },
      async (req) => groups.view(await groups.rotateSecret(req.params.ws, req.params.name), baseUrlOf(req, deps.publicUrl), true),
    );

    app.post(
      '/api/v1/workspaces/:ws/itsmActions/preview',
      {
        config: { access: 'reader' },
        schema: {
          tags,
          description:
            'What an ITSM action would create for a sample alert of each payload family (the action editor’s live preview). Nothing is stored or sent.',
          params: WsParams,
          body: Type.Object(
            {
              ticketConfiguration: Type.Ref('TicketConfiguration'),
              connectionName: Type.Optional(
                Type.String({ maxLength: 63, description: 'also check the action against this connection’s templates and choice lists' }),
              ),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (req) => {
        const cfg = req.body.ticketConfiguration as Record<string, unknown>;
        const checked = req.body.connectionName ? await groups.checkAction(req.params.ws, req.body.connectionName, cfg) : { problems: [], partner: undefined };
        return { problems: checked.problems, value: previewAction(cfg, checked.partner) };
      },
    );

    app.post(
      `${path}/:name/alerts`,
      {
        config: { access: 'contributor' },
        schema: {
          tags: ['alerts'],
          description: 'Bearer-authenticated ingestion (same payloads and answers as the webhook URL). 202 after the alert is stored.',
          params: WsNameParams,
          body: Type.Unknown(),
          response: { 202: IngestResultSchema },
        },
      },
      async (req, reply) => {
        const group = await groups.resolveByName(req.params.ws, req.params.name);
        if (!group) throw notFound(`action group '${req.params.name}' does not exist in workspace '${req.params.ws}'`);
        return reply.status(202).send(await ingestOrThrow(deps.ingest, group, req.body));
      },
    );
  };
}
