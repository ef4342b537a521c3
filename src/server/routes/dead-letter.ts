import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { Store } from '../../store/store.ts';
import type { JobRow } from '../../store/jobs.ts';
import { notFound } from '../errors.ts';
import { alertsOfJobs } from '../../delivery/engine.ts';
import { WsParams, WorkspaceName } from './params.ts';

const IdParams = Type.Object({ ws: WorkspaceName, id: Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'dead letter id' }) });

/** A page of jobs, oldest first: `after` = the last id of the previous page. */
const JobPage = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1–1000, default 100' })),
  after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'id of the last job of the previous page' })),
  connection: Type.Optional(Type.String({ maxLength: 63 })),
});

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

export function deadLetterRoutes(deps: { store: Store; onReplay?: () => void }) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['delivery'];
    const { store } = deps;
    const path = '/api/v1/workspaces/:ws/deadLetters';
    app.addSchema(DeadLetterView);
    app.addSchema(QueuedJobView);

    async function connectionId(ws: string, name: string | undefined): Promise<string | undefined> {
      if (!name) return undefined;
      const c = await store.connections.get(ws, name);
      if (!c) throw notFound(`connection '${name}' does not exist in workspace '${ws}'`);
      return c.id;
    }

    async function pageOf(ws: string, q: Static<typeof JobPage>) {
      return { limit: Math.min(1000, Math.max(1, Number(q.limit ?? 100))), afterId: q.after === undefined ? undefined : Number(q.after), connectionId: await connectionId(ws, q.connection) };
    }

    async function views(ws: string, rows: JobRow[]) {
      const connections = new Map((await store.connections.list(ws)).map((c) => [c.id, c.name]));
      const groups = new Map((await store.actionGroups.list(ws)).map((g) => [g.id, g.name]));
      const alertIds = new Map<string, string>();
      const payloads = rows.map((r) => safeJson(r.payload));
      for (const a of await store.alerts.getMany([...new Set(payloads.map((p) => p?.a).filter((a): a is string => typeof a === 'string'))])) alertIds.set(a.id, a.alert_id);
      return rows.map((r, i) => ({
        id: r.id,
        kind: r.kind,
        connectionName: (r.connection_id && connections.get(r.connection_id)) || null,
        actionGroup: (typeof payloads[i]?.g === 'string' && groups.get(payloads[i].g)) || null,
        action: typeof payloads[i]?.r === 'string' ? payloads[i].r : null,
        alertId: (typeof payloads[i]?.a === 'string' && alertIds.get(payloads[i].a)) || null,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: new Date(Number(r.created_at)).toISOString(),
        failedAt: new Date(Number(r.updated_at)).toISOString(),
      }));
    }

    app.get(
      path,
      {
        config: { access: 'reader' },
        schema: {
          tags,
          description: 'Deliveries that failed for good (after all attempts, or at once for errors a retry cannot fix), oldest first. Page with `after` = the last id.',
          params: WsParams,
          querystring: JobPage,
          response: { 200: Type.Object({ value: Type.Array(Type.Ref('DeadLetter')) }) },
        },
      },
      async (req) => {
        const rows = await store.jobs.listDead(req.params.ws, await pageOf(req.params.ws, req.query));
        return { value: await views(req.params.ws, rows) };
      },
    );

    app.post(
      `${path}/:id/replay`,
      { config: { access: 'contributor' }, schema: { tags, params: IdParams, response: { 200: Type.Object({ replayed: Type.Integer() }) } } },
      async (req) => {
        const n = await store.jobs.replay(req.params.ws, { id: Number(req.params.id) });
        if (n === 0) throw notFound(`dead letter ${req.params.id} does not exist in workspace '${req.params.ws}'`);
        deps.onReplay?.();
        return { replayed: n };
      },
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
      async (req) => {
        const n = await store.jobs.replay(req.params.ws, { connectionId: await connectionId(req.params.ws, req.body?.connectionName) });
        if (n > 0) deps.onReplay?.();
        return { replayed: n };
      },
    );

    app.delete(`${path}/:id`, { config: { access: 'contributor' }, schema: { tags, description: 'Discards a dead letter.', params: IdParams } }, async (req, reply) => {
      if (!(await store.jobs.deleteDead(req.params.ws, Number(req.params.id)))) throw notFound(`dead letter ${req.params.id} does not exist in workspace '${req.params.ws}'`);
      return reply.status(204).send();
    });

    app.get(
      '/api/v1/workspaces/:ws/deliveryQueue/jobs',
      {
        config: { access: 'reader' },
        schema: {
          tags,
          summary: 'What is waiting: the delivery jobs not finished yet',
          description: 'Pending and running delivery jobs, oldest first, with their next attempt, attempts, last error, alert rule, action group and connection. Page with `after` = the last id.',
          params: WsParams,
          querystring: JobPage,
          response: { 200: Type.Object({ value: Type.Array(Type.Ref('QueuedJob')) }) },
        },
      },
      async (req) => {
        const rows = await store.jobs.listWaiting(req.params.ws, await pageOf(req.params.ws, req.query));
        const base = await views(req.params.ws, rows);
        const alerts = await alertsOfJobs(store, rows);
        return {
          value: rows.map((r, i) => ({
            id: r.id,
            kind: r.kind,
            state: r.state,
            nextAttemptAt: new Date(Number(r.run_at)).toISOString(),
            attempts: r.attempts,
            maxAttempts: r.max_attempts,
            lastError: r.last_error,
            alertRule: alerts.get(r.id)?.rule ?? null,
            alertId: base[i].alertId,
            actionGroup: base[i].actionGroup,
            action: base[i].action,
            connectionName: base[i].connectionName,
            createdAt: base[i].createdAt,
          })),
        };
      },
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
              byConnection: Type.Array(Type.Object({ connectionName: Type.Union([Type.String(), Type.Null()]), pending: Type.Integer(), running: Type.Integer(), dead: Type.Integer() })),
            }),
          },
        },
      },
      async (req) => {
        const [totals, rows, connections] = await Promise.all([store.jobs.counts(req.params.ws), store.jobs.countsByConnection(req.params.ws), store.connections.list(req.params.ws)]);
        const names = new Map(connections.map((c) => [c.id, c.name]));
        return { ...totals, byConnection: rows.map((r) => ({ connectionName: (r.connectionId && names.get(r.connectionId)) || null, ...r.counts })) };
      },
    );
  };
}

function safeJson(s: string): Record<string, any> | null {
  try {
    const v = JSON.parse(s);
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}
