/**
 * Serves the dashboard (web/dist, built by `npm install`'s prepare step) from the connector's own origin:
 * hashed files under /assets with a year-long immutable cache, and index.html (no-cache, with a CSP) for
 * `/` and every other GET that is not an API path, so the single-page app's own routes survive a reload.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

export const defaultWebDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** Paths the SPA never owns: unknown ones stay JSON 404s. */
const API_PREFIXES = ['/api/', '/v1/', '/hooks/', '/docs', '/openapi.json', '/healthz', '/readyz', '/metrics', '/assets/'];

/**
 * Monaco and ECharts set inline styles (style-src 'unsafe-inline'); the Kusto language service runs in a
 * same-origin module worker; nothing else is loaded from anywhere but this origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function webRoutes(distDir = defaultWebDist) {
  return async function (app: FastifyInstance) {
    const indexFile = path.join(distDir, 'index.html');
    if (!fs.existsSync(indexFile)) {
      app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) =>
        reply
          .status(503)
          .send({ error: { code: 'DashboardNotBuilt', message: `the dashboard is not built (${indexFile} is missing): run npm run build:web` } }),
      );
      return;
    }
    const indexHtml = fs.readFileSync(indexFile);
    await app.register(fastifyStatic, {
      root: path.join(distDir, 'assets'),
      prefix: '/assets/',
      index: false,
      wildcard: true,
      immutable: true,
      maxAge: '365d',
      cacheControl: true,
    });

    const sendIndex = (_req: FastifyRequest, reply: FastifyReply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(indexHtml);

    app.get('/', { config: { access: 'public' }, schema: { hide: true } }, sendIndex);
    app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, async (req, reply) => {
      const pathname = req.url.split('?')[0];
      if (API_PREFIXES.some((p) => pathname.startsWith(p)) || path.extname(pathname) !== '') return reply.callNotFound();
      return sendIndex(req, reply);
    });
  };
}
