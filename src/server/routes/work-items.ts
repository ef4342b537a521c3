import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { LogRowWorkItems, LogRowWorkItemRequest } from '../../delivery/log-row-work-item.ts';
import { WsParams } from './params.ts';

const Scalar = Type.Union([Type.String({ maxLength: 8000 }), Type.Number(), Type.Boolean(), Type.Null()]);

/** `POST …/workItems`: create a work item from a log search result row (durable, deduplicated per row). */
export function workItemRoutes(items: LogRowWorkItems) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/api/v1/workspaces/:ws/workItems',
      {
        config: { access: 'contributor' },
        schema: {
          tags: ['alerts'],
          description:
            'Create a work item from a log search result row through the delivery queue. 202 once stored; the same row for the same connection and type again answers status duplicate. The outcome shows in ItsmActionOutcome_CL (AlertId_s = alertId).',
          params: WsParams,
          body: Type.Object(
            {
              connectionName: Type.String({ minLength: 1, maxLength: 63 }),
              workItemType: Type.Union([Type.Literal('Incident'), Type.Literal('Event'), Type.Literal('Alert')]),
              title: Type.String({ minLength: 1, maxLength: 256 }),
              description: Type.Optional(Type.String({ maxLength: 4000 })),
              severity: Type.Optional(Type.Union(['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'].map((s) => Type.Literal(s)))),
              query: Type.Optional(Type.String({ maxLength: 10000 })),
              row: Type.Record(Type.String({ maxLength: 128 }), Scalar, { maxProperties: 200 }),
            },
            { additionalProperties: false },
          ),
          response: { 202: Type.Object({ status: Type.String(), alertId: Type.String(), actionGroup: Type.String() }) },
        },
      },
      async (req, reply) => reply.status(202).send(await items.create(req.params.ws, req.body as LogRowWorkItemRequest)),
    );
  };
}
