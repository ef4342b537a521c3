import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Store } from '../store/store.ts';
import type { ConnectionService } from '../connections/service.ts';
import { makeAuthorizer } from './auth.ts';
import { toErrorResponse } from './errors.ts';
import { discardRestOfBody, parseJsonBody } from './request-body.ts';
import { documentRoute } from './openapi-docs.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { healthRoutes } from './routes/health.ts';
import { workspaceRoutes } from './routes/workspaces.ts';
import { WorkspaceService } from '../workspaces/service.ts';
import { connectionRoutes, type ConnectionRouteHooks } from './routes/connections.ts';
import { webRoutes } from './web.ts';

export interface AppDeps {
  store: Store;
  connections: ConnectionService;
  adminToken: string;
  bodyLimitBytes?: number;
  /** Time allowed to receive a whole request, headers and body (ITSMC_REQUEST_TIMEOUT_MS); slower ones get 408. */
  requestTimeoutMs?: number;
  logger?: boolean | object;
  https?: { cert: string; key: string };
  metrics?: Metrics;
  /** Extra route plugins (alerts, query …) registered after the core ones. */
  extraRoutes?: ((app: FastifyInstance) => Promise<void>)[];
  /** Hooks of the connection routes (which action groups use a connection). */
  connectionHooks?: ConnectionRouteHooks;
  /** Built dashboard to serve at / (default web/dist); false serves none. */
  webDist?: string | false;
}

/** Secrets that must never reach a log line. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.clientSecret',
  '*.client_secret',
  '*.refresh_token',
  '*.access_token',
  '*.token',
];

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const bodyLimit = deps.bodyLimitBytes ?? 1024 * 1024;
  const timeouts = serverTimeouts(deps.requestTimeoutMs ?? 30_000);
  const app = Fastify({
    logger:
      deps.logger === false || deps.logger === undefined
        ? false
        : { redact: redactPaths, serializers: { req: serializeRequest }, ...(typeof deps.logger === 'object' ? deps.logger : {}) },
    bodyLimit,
    requestTimeout: timeouts.requestTimeout,
    ...(deps.https ? { https: { ...deps.https, ...timeouts } } : { http: timeouts }),
    // Swagger UI reads its assets at start; on a busy host that can exceed avvio's 10 s default.
    pluginTimeout: 60_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);

  const metrics = deps.metrics ?? createMetrics();
  app.decorate('metrics', metrics);
  app.setErrorHandler(async (err, req, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) req.log.error({ err, url: req.routeOptions.url }, 'request failed');
    if (status === 413) {
      body.error.message = `request body is larger than the limit of ${bodyLimit} bytes`;
      reply.header('connection', 'close');
      await discardRestOfBody(req.raw, 64 * 1024 * 1024, timeouts.requestTimeout);
    }
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'NotFound', message: `no route ${req.method} ${redactUrl(req.url.split('?')[0])}` } });
  });

  const authorize = makeAuthorizer(deps.store, deps.adminToken);
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/') || req.url.startsWith('/v1/')) await authorize(req);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpRequests.inc({ route: req.routeOptions.url ?? 'unknown', method: req.method, status: String(reply.statusCode) });
  });

  app.addHook('onRoute', documentRoute);
  await app.register(swagger, {
    openapi: {
      info: { title: 'OpenITSMC API', version: '0.1.0', description: 'IT Service Management Connector: alerts to work items, ITSM data to KQL.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json: any, _base: unknown, _fragment: unknown, i: number) => json.$id || `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes(deps.store, metrics));
  await app.register(workspaceRoutes(new WorkspaceService(deps.store)));
  await app.register(connectionRoutes(deps.connections, deps.connectionHooks));
  for (const routes of deps.extraRoutes ?? []) await app.register(routes);
  if (deps.webDist !== false) await app.register(webRoutes(deps.webDist));
  return app;
}

/**
 * Node's own request timers: the whole request (headers and body) must arrive within `requestTimeout`
 * (408 otherwise), headers within 10 s; expiry is checked often enough for short limits to hold.
 */
function serverTimeouts(requestTimeout: number) {
  return {
    requestTimeout,
    headersTimeout: Math.min(requestTimeout, 10_000),
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(requestTimeout / 4))),
  };
}

/** Webhook secrets travel in the URL path (as Azure's do): never log them. */
export function redactUrl(url: string): string {
  return url.replace(/\/hooks\/[^/?]+/, '/hooks/***');
}

function serializeRequest(req: { method: string; url: string; ip?: string }) {
  return { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip };
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}
