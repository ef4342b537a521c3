import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { SyncStatusService } from '../../sync/status-service.ts';
import { WsNameParams } from './params.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ScopeResult = Type.Object({
  scope: Type.String(),
  fetched: Type.Integer({ description: 'records read from the partner' }),
  appended: Type.Integer({ description: 'rows added to ServiceDesk_CL (new or changed records)' }),
  unchanged: Type.Integer({ description: 'records read again with unchanged content (no row added)' }),
  pages: Type.Integer(),
  since: Type.String({ description: 'start of the window read (records changed at or after)' }),
  backfill: Type.Boolean({ description: 'part of the initial sync of sync_data_days' }),
  complete: Type.Boolean({ description: 'reached the newest change; false when the run stopped early and resumes next time' }),
  watermark: Nullable(Type.String()),
  error: Type.Optional(Type.String()),
});

const SyncNowResult = Type.Object(
  {
    workspace: Type.String(),
    connection: Type.String(),
    status: Type.String({ description: 'ok, partial (stopped part way: rate limit, error) or failed' }),
    startedAt: Type.String(),
    durationMs: Type.Integer(),
    fetched: Type.Integer(),
    appended: Type.Integer(),
    unchanged: Type.Integer(),
    scopes: Type.Array(ScopeResult),
    error: Type.Optional(Type.String()),
    configuration: Type.Object({ status: Type.String(), lastConfigSyncAt: Nullable(Type.String()), lastError: Nullable(Type.String()) }),
  },
  { $id: 'SyncNowResult' },
);

const SyncStatus = Type.Object(
  {
    workspace: Type.String(),
    connection: Type.String(),
    running: Type.Boolean({ description: 'a run is under way in this process' }),
    lastSyncAt: Nullable(Type.String()),
    intervalSeconds: Type.Integer(),
    scopes: Type.Array(
      Type.Object({
        scope: Type.String(),
        watermark: Nullable(Type.String()),
        backfillDone: Type.Boolean(),
        resumable: Type.Boolean({ description: 'a run stopped part way; the next resumes at the next page' }),
        lastRunAt: Nullable(Type.String()),
        lastError: Nullable(Type.String()),
        rowsAppended: Type.Integer(),
      }),
    ),
    runs: Type.Array(
      Type.Object({
        holder: Type.String(),
        startedAt: Type.String(),
        finishedAt: Nullable(Type.String()),
        status: Nullable(Type.String()),
        fetched: Type.Integer(),
        appended: Type.Integer(),
        error: Nullable(Type.String()),
      }),
    ),
  },
  { $id: 'SyncStatus' },
);

/** `POST …/connections/{name}/sync` (configuration refresh + data sync now) and `GET` (where the sync stands). */
export function syncRoutes(sync: SyncStatusService, opts: { waitMs?: number } = {}) {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['connections'];
    app.addSchema(SyncNowResult);
    app.addSchema(SyncStatus);

    app.post(
      '/api/v1/workspaces/:ws/connections/:name/sync',
      {
        config: { access: 'contributor' },
        schema: {
          tags,
          summary: 'Sync now: refresh templates and choice lists, then sync incidents and change requests into ServiceDesk_CL',
          params: WsNameParams,
          response: { 200: Type.Ref('SyncNowResult') },
        },
      },
      async (req) => sync.syncNow(req.params.ws, req.params.name, opts.waitMs ?? 30_000),
    );

    app.get(
      '/api/v1/workspaces/:ws/connections/:name/sync',
      {
        config: { access: 'reader' },
        schema: { tags, summary: 'Where the data sync of a connection stands', params: WsNameParams, response: { 200: Type.Ref('SyncStatus') } },
      },
      async (req) => sync.status(req.params.ws, req.params.name),
    );
  };
}
