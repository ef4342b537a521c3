/**
 * The Azure Monitor Logs query API over the workspace's KQL engine:
 *   POST /v1/workspaces/{ws}/query   {"query": "...", "timespan": "P1D"}
 *   GET  /v1/workspaces/{ws}/query?query=…&timespan=…
 * answering `{"tables":[{"name":"PrimaryResult","columns":[{"name","type"}],"rows":[[…]]}]}` (plus
 * `render` from a trailing render operator), and failing in Log Analytics' error shape
 * (`{"error":{"code":"BadArgumentError","message",…,"innererror":{…}}}`) — 400 for any bad query, never
 * a 500. Limits: a row cap (rows beyond it are dropped and a PartialError says so, as Log Analytics
 * does) and a statement timeout (504 GatewayTimeout); both are reported in `limits` when hit.
 *   GET  /v1/workspaces/{ws}/metadata  the tables and columns (Log Analytics metadata API shape, a subset:
 *        see workspace/metadata.ts), for editor completion; `… | getschema` answers the same from the query box.
 * Access: role reader (workspace API keys of the workspace, or the admin token).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { QueryService } from '../../workspace/query-service.ts';
import { NotFoundError } from '../../core/errors.ts';
import { ApiError } from '../errors.ts';
import { KqlError, logsErrorStatus, toLogsError, warmUpKql, type LogsErrorBody } from '../../workspace/query.ts';

export interface QueryRouteOptions {
  /** Rows returned at most (ITSMC_QUERY_ROW_CAP). */
  rowCap: number;
  /** Statement timeout in ms (ITSMC_QUERY_TIMEOUT_MS). */
  timeoutMs: number;
  /** Parse one query at start-up so the first user query does not pay the parser's initialization. */
  warmUp?: boolean;
}

const WORKSPACE = /^[a-z0-9-]{1,63}$/;
const MAX_QUERY_CHARS = 100_000;

const QueryBody = Type.Object(
  {
    query: Type.String({ description: 'KQL query' }),
    timespan: Type.Optional(Type.String({ description: 'ISO 8601 duration (P1D) or interval (start/end), applied to TimeGenerated' })),
    workspaces: Type.Optional(Type.Array(Type.String(), { description: 'accepted for compatibility; only the path workspace is queried' })),
  },
  { $id: 'LogsQueryBody' },
);

const LogsResult = Type.Object(
  {
    tables: Type.Array(
      Type.Object({
        name: Type.String(),
        columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
        rows: Type.Array(Type.Array(Type.Unknown())),
      }),
    ),
    render: Type.Optional(Type.Object({ visualization: Type.String(), properties: Type.Optional(Type.Record(Type.String(), Type.String())) })),
    error: Type.Optional(Type.Unknown({ description: 'PartialError when a limit was hit' })),
    limits: Type.Optional(Type.Object({ rowCap: Type.Integer(), truncated: Type.Boolean(), timeoutMs: Type.Integer() })),
  },
  { $id: 'LogsQueryResult' },
);

function logsError(code: string, message: string, inner?: { code: string; message: string }, correlationId?: string): LogsErrorBody {
  return { error: { message, code, ...(correlationId ? { correlationId } : {}), ...(inner ? { innererror: inner } : {}) } };
}

function badArgument(innerCode: string, message: string): KqlError {
  return new KqlError('BadArgumentError', message, { innerCode });
}

/** Anything thrown on a query route → status + Log Analytics error body. */
function toResponse(err: unknown, correlationId: string): { status: number; body: LogsErrorBody } {
  if (err instanceof KqlError) return { status: logsErrorStatus(err), body: toLogsError(err, correlationId) };
  if (err instanceof NotFoundError) return { status: 404, body: logsError('WorkspaceNotFoundError', err.message, undefined, correlationId) };
  if (err instanceof ApiError) {
    const code =
      err.statusCode === 401
        ? 'AuthorizationRequiredError'
        : err.statusCode === 403
          ? 'InsufficientAccessError'
          : err.statusCode === 404
            ? 'WorkspaceNotFoundError'
            : 'BadArgumentError';
    return { status: err.statusCode, body: logsError(code, err.message, undefined, correlationId) };
  }
  const fe = err as Partial<FastifyError> | null;
  const status = Number(fe?.statusCode);
  if (status === 413) return { status, body: logsError('PayloadTooLargeError', 'The request body is larger than the limit', undefined, correlationId) };
  if (status === 415) return { status, body: logsError('UnsupportedMediaTypeError', 'Send the query as application/json', undefined, correlationId) };
  if (status >= 400 && status < 500) {
    return {
      status: 400,
      body: toLogsError(
        badArgument(
          'InvalidRequest',
          String(fe?.message ?? 'bad request')
            .replace(/^FST_\w+:\s*/, '')
            .slice(0, 300),
        ),
        correlationId,
      ),
    };
  }
  return { status: 500, body: logsError('InternalServerError', 'An internal error occurred', undefined, correlationId) };
}

export function queryRoutes(queries: QueryService, options: QueryRouteOptions) {
  if (options.warmUp !== false)
    setImmediate(() => {
      queries.warm();
      try {
        warmUpKql();
      } catch {
        // the first query reports any real problem
      }
    });

  return async function (app: FastifyInstance) {
    app.addSchema(QueryBody);
    app.addSchema(LogsResult);
    const tags = ['query'];

    const errorHandler = (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toResponse(err, req.id);
      if (status >= 500 && status !== 504) req.log.error({ err }, 'query failed');
      return reply.status(status).send(body);
    };

    const execute = async (req: FastifyRequest, reply: FastifyReply, query: unknown, timespan: unknown) => {
      const ws = (req.params as { ws?: string }).ws ?? '';
      if (!WORKSPACE.test(ws)) throw badArgument('InvalidWorkspace', `'${ws.slice(0, 80)}' is not a workspace name ([a-z0-9-]{1,63})`);
      if (typeof query !== 'string' || query.trim() === '') throw badArgument('QueryMissing', 'The request needs a non-empty "query" string');
      if (query.length > MAX_QUERY_CHARS) throw badArgument('QueryTooLong', `The query is longer than ${MAX_QUERY_CHARS} characters`);
      if (timespan !== undefined && timespan !== null && typeof timespan !== 'string')
        throw badArgument('InvalidTimespan', '"timespan" must be an ISO 8601 duration or interval string');
      const result = await queries.run(ws, query, { timespan: timespan ?? undefined, rowCap: options.rowCap, timeoutMs: options.timeoutMs });
      const body: Record<string, unknown> = { tables: result.tables };
      if (result.render) body.render = result.render;
      if (result.truncated) {
        body.error = {
          code: 'PartialError',
          message: 'There were some errors when processing your query.',
          details: [
            {
              code: 'EngineError',
              message: `The result was cut at the row cap of ${result.rowCap} rows`,
              innererror: {
                code: 'E_QUERY_RESULT_SET_TOO_LARGE',
                message: `Query result set has exceeded the row cap of ${result.rowCap} rows (ITSMC_QUERY_ROW_CAP); only the first ${result.rowCap} rows are returned. Narrow the query (where, summarize, take).`,
              },
            },
          ],
        };
        body.limits = { rowCap: result.rowCap, truncated: true, timeoutMs: options.timeoutMs };
      }
      return reply.status(200).send(body);
    };

    app.post(
      '/v1/workspaces/:ws/query',
      {
        config: { access: 'reader' },
        errorHandler,
        schema: {
          tags,
          summary: 'Run a KQL query (Azure Monitor Logs query API)',
          body: Type.Ref('LogsQueryBody'),
          response: { 200: Type.Ref('LogsQueryResult') },
        },
        // Body problems are answered in the Logs error shape by the handler, not by schema validation.
        validatorCompiler: () => () => true,
      },
      async (req, reply) => {
        const body = req.body as Record<string, unknown> | null | undefined;
        if (!body || typeof body !== 'object' || Array.isArray(body))
          throw badArgument('InvalidRequest', 'The body must be a JSON object {"query": "...", "timespan": "P1D"}');
        return execute(req, reply, body.query, body.timespan);
      },
    );

    app.get(
      '/v1/workspaces/:ws/metadata',
      {
        config: { access: 'reader' },
        errorHandler,
        schema: {
          tags,
          summary: 'Tables and columns of the workspace (Log Analytics metadata API)',
          description:
            'The workspace schema for editor completion, in the shape of the Log Analytics metadata API: `tables` (id, name, description, timespanColumn, columns with name, type, description) and `workspaces`. Categories, solutions, functions and saved queries are not included.',
        },
      },
      async (req, reply) => {
        const ws = (req.params as { ws?: string }).ws ?? '';
        if (!WORKSPACE.test(ws)) throw badArgument('InvalidWorkspace', `'${ws.slice(0, 80)}' is not a workspace name ([a-z0-9-]{1,63})`);
        return reply.status(200).send(await queries.metadata(ws));
      },
    );

    app.get(
      '/v1/workspaces/:ws/query',
      {
        config: { access: 'reader' },
        errorHandler,
        schema: {
          tags,
          summary: 'Run a KQL query given in the query string (Azure Monitor Logs query API)',
          querystring: Type.Object({ query: Type.String(), timespan: Type.Optional(Type.String()) }),
          response: { 200: Type.Ref('LogsQueryResult') },
        },
        validatorCompiler: () => () => true,
      },
      async (req, reply) => {
        const q = req.query as Record<string, unknown>;
        const pick = (v: unknown) => (Array.isArray(v) ? v[0] : v);
        return execute(req, reply, pick(q.query), pick(q.timespan));
      },
    );
  };
}
