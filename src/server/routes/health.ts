import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.ts';
import type { Metrics } from '../metrics.ts';

export function healthRoutes(store: Store, metrics: Metrics) {
  return async function (app: FastifyInstance) {
    app.get('/healthz', { config: { access: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => {
      const ready = await store.ready();
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store: store.databaseKind });
    });
    app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  };
}
