import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Store } from '../store/store.ts';
import type { ConnectionService } from '../connections/service.ts';
import { makeAuthorizer } from './auth.ts';
import { toErrorResponse } from './errors.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { healthRoutes } from './routes/health.ts';
import { workspaceRoutes } from './routes/workspaces.ts';
import { WorkspaceService } from '../workspaces/service.ts';
import { connectionRoutes, type ConnectionRouteHooks } from './routes/connections.ts';

export interface AppDeps {
  store: Store;
  connections: ConnectionService;
  adminToken: string;
  bodyLimitBytes?: number;
  logger?: boolean | object;
  https?: { cert: string; key: string };
  metrics?: Metrics;
  /** Extra route plugins (alerts, query …) registered after the core ones. */
  extraRoutes?: ((app: FastifyInstance) => Promise<void>)[];
  /** Hooks of the connection routes (which action groups use a connection). */
  connectionHooks?: ConnectionRouteHooks;
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
  const app = Fastify({
    logger: deps.logger === false || deps.logger === undefined ? false : { redact: redactPaths, serializers: { req: serializeRequest }, ...(typeof deps.logger === 'object' ? deps.logger : {}) },
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
    ...(deps.https ? { https: deps.https } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Loading the API docs' static files can take more than Fastify's 10 s on a busy machine.
    pluginTimeout: 60_000,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics = deps.metrics ?? createMetrics();
  app.decorate('metrics', metrics);
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) req.log.error({ err, url: req.routeOptions.url }, 'request failed');
    reply.status(status).send(body);
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
  return app;
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
