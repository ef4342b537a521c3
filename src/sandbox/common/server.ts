/**
 * What every partner emulator's HTTP server needs: a Fastify instance (HTTP or HTTPS), the fault-injection
 * hook (latency, scripted and random errors, 429 with Retry-After, held requests, outages, HTML pages on 200),
 * the admin API driving it (`<prefix>/faults`, `/reset_faults`, `/rate_limits`, `/stats`), listening, and the
 * client side of that admin API behind the generic `SandboxFaults` interface.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SandboxFaults } from '../../partners/descriptor.ts';
import type { Faults, RateLimiter, Stats } from './faults.ts';

export interface TlsFiles {
  cert: string;
  key: string;
}

export function sandboxFastify(opts: { logger: boolean; tls?: TlsFiles; bodyLimit?: number }): FastifyInstance {
  return (Fastify as any)({
    logger: opts.logger,
    bodyLimit: opts.bodyLimit ?? 10 * 1024 * 1024,
    forceCloseConnections: true,
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
  });
}

export function pathOf(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? req.url : req.url.slice(0, i);
}

/** How the product answers each injected fault (its error envelope, its maintenance page). */
export interface FaultAnswers {
  /** 200 with the product's HTML maintenance page. */
  htmlPage(reply: FastifyReply): FastifyReply;
  outage(reply: FastifyReply, until: string | null): FastifyReply;
  rateLimited(reply: FastifyReply, retryAfterSec: number): FastifyReply;
  error(reply: FastifyReply, status: number): FastifyReply;
}

export interface HeldWork {
  /** Registers a timer (a held request, delayed processing) that `abortHeld` clears, running `kill`. */
  hold(timer: NodeJS.Timeout, kill: () => void): void;
  release(timer: NodeJS.Timeout): void;
  /** Clears every held timer (on close) and runs its kill. */
  abortHeld(): void;
}

/** Installs the fault hook before every other handler; returns the registry of held work (timeouts). */
export function installFaultHook(app: FastifyInstance, deps: { faults: Faults; stats: Stats; adminPrefix: string; answers: FaultAnswers }): HeldWork {
  const { faults, stats, answers } = deps;
  const held = new Map<NodeJS.Timeout, () => void>();
  app.addHook('onRequest', async (req, reply) => {
    const path = pathOf(req);
    if (path.startsWith(deps.adminPrefix)) return;
    stats.count(req.method, path);
    if (!faults.applies(path)) return;
    const action = faults.decide(Date.now());
    if (action.kind === 'hibernate') return answers.htmlPage(reply);
    if (action.kind === 'outage') return answers.outage(reply, faults.config.outageUntil);
    // Scripted and random faults answer after the injected latency.
    if (faults.config.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.config.latencyMs));
    if (action.kind === 'ratelimit') return answers.rateLimited(reply, action.retryAfterSec);
    if (action.kind === 'error') return answers.error(reply, action.status);
    if (action.kind === 'timeout') {
      reply.hijack();
      const socket = req.raw.socket;
      const t = setTimeout(() => {
        held.delete(t);
        socket.destroy();
      }, action.ms);
      held.set(t, () => socket.destroy());
      return reply;
    }
  });
  return {
    hold: (t, kill) => held.set(t, kill),
    release: (t) => held.delete(t),
    abortHeld() {
      for (const [t, kill] of held) {
        clearTimeout(t);
        kill();
      }
      held.clear();
    },
  };
}

export interface AdminDeps {
  prefix: string;
  faults: Faults;
  limiter: RateLimiter;
  stats: Stats;
  /** Wraps a handler with the product's admin authentication. */
  admin(
    handler: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>,
  ): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
  json(reply: FastifyReply, status: number, body: unknown): FastifyReply;
  /** The parsed JSON body (throws the product's 400 when it is not JSON). */
  body(req: FastifyRequest): unknown;
  /** Throws the product's 400 naming what was refused. */
  refuse(what: string, detail: string): never;
}

/** `<prefix>/faults`, `/reset_faults`, `/rate_limits`, `/stats`, `/stats/reset`. */
export function registerFaultAdmin(app: FastifyInstance, d: AdminDeps): void {
  const p = d.prefix;
  app.get(
    `${p}/faults`,
    d.admin((_req, reply) => d.json(reply, 200, d.faults.config)),
  );
  app.put(
    `${p}/faults`,
    d.admin((req, reply) => {
      const bad = d.faults.merge(d.body(req));
      if (bad.length) d.refuse('Invalid fault settings', `Rejected keys: ${bad.join(', ')}`);
      return d.json(reply, 200, d.faults.config);
    }),
  );
  app.post(
    `${p}/reset_faults`,
    d.admin((_req, reply) => {
      d.faults.reset();
      d.limiter.reset();
      return d.json(reply, 200, { faults: d.faults.config, rateLimits: d.limiter.get() });
    }),
  );
  app.get(
    `${p}/rate_limits`,
    d.admin((_req, reply) => d.json(reply, 200, d.limiter.get())),
  );
  app.put(
    `${p}/rate_limits`,
    d.admin((req, reply) => {
      const err = d.limiter.set(d.body(req));
      if (err) d.refuse('Invalid rate limit rules', err);
      return d.json(reply, 200, d.limiter.get());
    }),
  );
  app.get(
    `${p}/stats`,
    d.admin((_req, reply) => d.json(reply, 200, d.stats.toJSON())),
  );
  app.post(
    `${p}/stats/reset`,
    d.admin((_req, reply) => {
      d.stats.reset();
      return d.json(reply, 200, d.stats.toJSON());
    }),
  );
}

/** Listens and says where: `http(s)://host:port` (0.0.0.0 shown as 127.0.0.1, IPv6 in brackets). */
export async function listenSandbox(app: FastifyInstance, host: string, port: number, tls: boolean): Promise<{ url: string; port: number }> {
  await app.listen({ host, port });
  const bound = (app.server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { url: `${tls ? 'https' : 'http'}://${urlHost}:${bound}`, port: bound };
}

/** The admin API above, seen from a test or the contract suite, behind the generic fault interface. */
export function adminFaultsClient(url: string, authorization: string, prefix: string, expireAccessTokensPath: string): SandboxFaults {
  const call = async (method: 'PUT' | 'POST', path: string, body?: unknown): Promise<void> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: authorization, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sandbox admin ${method} ${path} answered ${res.status}: ${await res.text()}`);
  };
  return {
    failNext: (status, count, retryAfterSeconds = 1) =>
      call(
        'PUT',
        `${prefix}/faults`,
        status === 429 ? { rateLimitNext: { count, retryAfterSec: retryAfterSeconds } } : { failNext: count, errorStatus: status },
      ),
    delay: (ms) => call('PUT', `${prefix}/faults`, { latencyMs: ms }),
    expireAccessTokens: () => call('POST', expireAccessTokensPath),
    chaos: (settings) => call('PUT', `${prefix}/faults`, settings),
    reset: () => call('POST', `${prefix}/reset_faults`),
  };
}

/**
 * Listens and hands back the running emulator: where it is, and `close` (once: held requests aborted, server
 * closed, then its store). The store is closed at once when listening fails.
 */
export async function serveSandbox(
  app: FastifyInstance,
  store: { close(): void },
  abortHeld: () => void,
  opts: { host?: string; port?: number; tls?: TlsFiles },
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  let where: { url: string; port: number };
  try {
    where = await listenSandbox(app, opts.host ?? '127.0.0.1', opts.port ?? 0, !!opts.tls);
  } catch (e) {
    store.close();
    throw e;
  }
  let closed = false;
  return {
    ...where,
    async close() {
      if (closed) return;
      closed = true;
      abortHeld();
      await app.close();
      store.close();
    },
  };
}
