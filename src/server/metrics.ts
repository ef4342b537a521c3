import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
}

/** A registry of our own, so tests and several apps in one process never share global state. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'itsmc_' });
  const httpRequests = new Counter({
    name: 'itsmc_http_requests_total',
    help: 'HTTP requests served',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  return { registry, httpRequests };
}
