import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ActionGroupService, ResolvedActionGroup } from '../../actiongroups/service.ts';
import type { IngestResult, IngestService } from '../../delivery/ingest.ts';
import { IngestError } from '../../ingest/errors.ts';
import { ApiError, notFound } from '../errors.ts';

export const IngestResultSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('ignored')], {
      description:
        'accepted: stored before this answer; duplicate: this alert state was already stored (nothing new); ignored: the action group is disabled (nothing stored)',
    }),
    reason: Type.Optional(Type.String()),
    alerts: Type.Array(
      Type.Object({
        alertId: Type.String(),
        monitorCondition: Type.String(),
        status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate')]),
        workItems: Type.Integer({ description: 'work units queued for delivery (0 for a duplicate)' }),
      }),
    ),
  },
  { $id: 'IngestResult' },
);

/** Parses and stores; an unrecognised payload is a 400 naming the shapes tried and the first mismatch. */
export async function ingestOrThrow(ingest: IngestService, group: ResolvedActionGroup, body: unknown): Promise<IngestResult> {
  try {
    const result = await ingest.ingest(group, body);
    for (const a of result.alerts) if (a.status === 'duplicate') a.workItems = 0;
    return result;
  } catch (err) {
    if (err instanceof IngestError) throw new ApiError(400, 'UnrecognizedPayload', err.message, err.details);
    throw err;
  }
}

/**
 * `POST /hooks/{secret}`: the webhook URL of an action group, as Azure Monitor, Alertmanager and Grafana
 * call it. No bearer token: the secret in the path is the credential, checked by its SHA-256; the path is
 * never logged (request logging is off, errors log the route pattern only).
 */
export function hookRoutes(deps: { groups: ActionGroupService; ingest: IngestService }) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/hooks/:secret',
      {
        config: { access: 'public' },
        schema: {
          tags: ['alerts'],
          description: 'Webhook URL of an action group (the action group view shows it as webhookUrl). 202 once the alert is stored.',
          security: [],
          params: Type.Object({ secret: Type.String({ maxLength: 256 }) }),
          body: Type.Unknown(),
          response: { 202: IngestResultSchema },
        },
      },
      async (req, reply) => {
        const group = await deps.groups.resolveBySecret(req.params.secret);
        if (!group) throw notFound('no action group has this webhook URL (wrong or rotated secret)');
        return reply.status(202).send(await ingestOrThrow(deps.ingest, group, req.body));
      },
    );
  };
}
