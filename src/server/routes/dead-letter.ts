import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DeliveryQueueService } from '../../delivery/queue-service.ts';
import { WsParams, WorkspaceName } from './params.ts';

const IdParams = Type.Object({ ws: WorkspaceName, id: Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'dead letter id' }) });

const QueuedJobView = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String({ description: 'deliver (an alert for an ITSM action) or flush (a coalesced work note due later)' }),
    state: Type.String({ description: 'pending (waiting for its next attempt) or running' }),
    nextAttemptAt: Type.String({ description: 'when a pending job is tried next (its retry or flush time)' }),
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    alertRule: Type.Union([Type.String(), Type.Null()]),
    alertId: Type.Union([Type.String(), Type.Null()]),
    actionGroup: Type.Union([Type.String(), Type.Null()]),
    action: Type.Union([Type.String(), Type.Null()]),
    connectionName: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
  },
  { $id: 'QueuedJob' },
);

const DeadLetterView = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String(),
    connectionName: Type.Union([Type.String(), Type.Null()]),
    actionGroup: Type.Union([Type.String(), Type.Null()]),
    action: Type.Union([Type.String(), Type.Null()]),
    alertId: Type.Union([Type.String(), Type.Null()]),
    attempts: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    failedAt: Type.String(),
  },
  { $id: 'DeadLetter' },
);

export function deadLetterRoutes(queue: DeliveryQueueService) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['delivery'];
    const path = '/api/v1/workspaces/:ws/deadLetters';
    app.addSchema(DeadLetterView);
    app.addSchema(QueuedJobView);

    app.get(
      path,
      {
        config: { access: 'reader' },
        schema: {
          tags,
          description:
            'Deliveries that failed for good (after all attempts, or at once for errors a retry cannot fix), oldest first. Page with `after` = the last id.',
          params: WsParams,
          querystring: Type.Object({
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1–1000, default 100' })),
            after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'id of the last dead letter of the previous page' })),
            connection: Type.Optional(Type.String({ maxLength: 63 })),
          }),
          response: { 200: Type.Object({ value: Type.Array(Type.Ref('DeadLetter')) }) },
        },
      },
      async (req) => ({
        value: await queue.listDead(req.params.ws, {
          limit: req.query.limit === undefined ? undefined : Number(req.query.limit),
          afterId: req.query.after === undefined ? undefined : Number(req.query.after),
          connectionName: req.query.connection,
        }),
      }),
    );

    app.post(
      `${path}/:id/replay`,
      { config: { access: 'contributor' }, schema: { tags, params: IdParams, response: { 200: Type.Object({ replayed: Type.Integer() }) } } },
      async (req) => ({ replayed: await queue.replay(req.params.ws, Number(req.params.id)) }),
    );

    app.post(
      `${path}/replay`,
      {
        config: { access: 'contributor' },
        schema: {
          tags,
          description: 'Replays every dead letter of the workspace (or of one connection).',
          params: WsParams,
          body: Type.Optional(Type.Object({ connectionName: Type.Optional(Type.String({ maxLength: 63 })) }, { additionalProperties: false })),
          response: { 200: Type.Object({ replayed: Type.Integer() }) },
        },
      },
      async (req) => ({ replayed: await queue.replayAll(req.params.ws, req.body?.connectionName) }),
    );

    app.delete(
      `${path}/:id`,
      { config: { access: 'contributor' }, schema: { tags, description: 'Discards a dead letter.', params: IdParams } },
      async (req, reply) => {
        await queue.discard(req.params.ws, Number(req.params.id));
        return reply.status(204).send();
      },
    );

    app.get(
      '/api/v1/workspaces/:ws/deliveryQueue/jobs',
      {
        config: { access: 'reader' },
        schema: {
          tags,
          summary: 'What is waiting: the delivery jobs not finished yet',
          description:
            'Pending and running delivery jobs, oldest first, with their next attempt, attempts, last error, alert rule, action group and connection. Page with `after` = the last id.',
          params: WsParams,
          querystring: Type.Object({
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1–1000, default 100' })),
            after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'id of the last job of the previous page' })),
            connection: Type.Optional(Type.String({ maxLength: 63 })),
          }),
          response: { 200: Type.Object({ value: Type.Array(Type.Ref('QueuedJob')) }) },
        },
      },
      async (req) => ({
        value: await queue.listWaiting(req.params.ws, {
          limit: req.query.limit === undefined ? undefined : Number(req.query.limit),
          afterId: req.query.after === undefined ? undefined : Number(req.query.after),
          connectionName: req.query.connection,
        }),
      }),
    );

    app.get(
      '/api/v1/workspaces/:ws/deliveryQueue',
      {
        config: { access: 'reader' },
        schema: {
          tags,
          description: 'Delivery jobs by state, in total and per connection.',
          params: WsParams,
          response: {
            200: Type.Object({
              pending: Type.Integer(),
              running: Type.Integer(),
              dead: Type.Integer(),
              byConnection: Type.Array(
                Type.Object({
                  connectionName: Type.Union([Type.String(), Type.Null()]),
                  pending: Type.Integer(),
                  running: Type.Integer(),
                  dead: Type.Integer(),
                }),
              ),
            }),
          },
        },
      },
      async (req) => queue.counts(req.params.ws),
    );
  };
}
