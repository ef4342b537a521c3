/**
 * The ServiceNow sandbox HTTP surface (Fastify): OAuth token endpoints, the Table API, the Event
 * Management jsonv2 endpoint and the sandbox admin API (`/api/x_sandbox/*`).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { installFaultHook, pathOf, registerFaultAdmin, sandboxFastify } from '../common/server.ts';
import { DEFAULT_OAUTH, DEFAULT_RULES } from './config.ts';
import { mergeKnown } from '../common/merge-known.ts';
import { insertEvent, processEvent } from './events.ts';
import { ADMIN_PREFIX, Faults, isServiceNowApi, RateLimiter, routeKey, Stats } from './faults.ts';
import type { DisplayMode } from './format.ts';
import { parseDisplayMode, RecordFormatter } from './format.ts';
import { OAuthService } from './oauth.ts';
import { verifyPassword } from '../common/passwords.ts';
import { compileQuery, parseEncodedQuery } from './query.ts';
import type { TableMeta } from './schema.ts';
import type { Rec, SnStore, UserCtx } from './store.ts';
import { hasRole, SnError } from './store.ts';

export interface AppOptions {
  seed: number;
  logger: boolean;
  tls?: { cert: string; key: string };
}

export interface SandboxApp {
  app: FastifyInstance;
  /** Clears timers of held ("timeout") requests and destroys their sockets. */
  abortHeld(): void;
}

export const HIBERNATING_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Instance Hibernating page</title></head>
<body><h1>Your instance is hibernating</h1>
<p>This ServiceNow developer instance is hibernating because it has not been used recently.
Sign in to the developer portal to wake it up. Waking an instance can take a few minutes.</p>
</body></html>
`;

const API_HEADERS: Record<string, string> = {
  Server: 'ServiceNow',
  'X-Is-Logged-In': 'true',
  'Cache-Control': 'no-cache,no-store,must-revalidate,max-age=-1',
  Pragma: 'no-store,no-cache',
  Expires: '0',
  'X-Content-Type-Options': 'nosniff',
};

const TABLE_PREFIXES = ['/api/now/table', '/api/now/v1/table', '/api/now/v2/table'];

type Query = Record<string, string | string[] | undefined>;

function q1(q: Query, key: string): string | undefined {
  const v = q[key];
  return Array.isArray(v) ? v[0] : v;
}

function truthy(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

function envelope(message: string, detail: string | null): string {
  return JSON.stringify({ error: { message, detail }, status: 'failure' });
}

const UNAUTHENTICATED = (): SnError => new SnError(401, 'User Not Authenticated', 'Required to provide Auth information');

function parseJsonBody(body: unknown): Rec {
  if (body === undefined || body === null || body === '') return {};
  let parsed: unknown;
  try {
    parsed = typeof body === 'string' ? JSON.parse(body) : body;
  } catch {
    throw new SnError(400, 'Exception while reading request', 'The payload is not valid JSON.');
  }
  if (Array.isArray(parsed)) parsed = parsed[0] ?? {};
  if (!parsed || typeof parsed !== 'object') {
    throw new SnError(400, 'Exception while reading request', 'The payload is not a JSON object.');
  }
  return parsed as Rec;
}

function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? `${req.hostname}`}`;
}

export function buildApp(store: SnStore, opts: AppOptions): SandboxApp {
  const app = sandboxFastify({ logger: opts.logger, tls: opts.tls });
  const oauth = new OAuthService(store);
  const faults = new Faults(opts.seed, isServiceNowApi, ADMIN_PREFIX);
  const limiter = new RateLimiter();
  const stats = new Stats(routeKey);
  const basicCache = new Map<string, { sysId: string; version: number }>();
  const userCache = new Map<string, { ctx: UserCtx; version: number }>();
  let txSeq = 0;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const send = (reply: FastifyReply, status: number, body: string | null, extra: Record<string, string> = {}): FastifyReply => {
    reply.code(status);
    for (const [k, v] of Object.entries(API_HEADERS)) reply.header(k, v);
    reply.header('X-Transaction-ID', (++txSeq).toString(16).padStart(12, '0'));
    if (store.rules.sessionCookies) {
      const sid = randomBytes(16).toString('hex').toUpperCase();
      reply.header('Set-Cookie', [
        `JSESSIONID=${sid}; Path=/; HttpOnly; SameSite=None; Secure`,
        `glide_user_route=glide.${sid.slice(0, 16).toLowerCase()}; Path=/; HttpOnly; SameSite=None; Secure`,
      ]);
    }
    for (const [k, v] of Object.entries(extra)) reply.header(k, v);
    if (body === null) return reply.send();
    reply.header('Content-Type', 'application/json;charset=UTF-8');
    return reply.send(body);
  };
  const sendError = (reply: FastifyReply, e: SnError): FastifyReply => send(reply, e.status, envelope(e.message, e.detail), e.headers);

  // ---------------------------------------------------------------- faults and stats (before anything else)
  const held = installFaultHook(app, {
    faults,
    stats,
    adminPrefix: ADMIN_PREFIX,
    answers: {
      htmlPage: (reply) => reply.code(200).header('Content-Type', 'text/html;charset=UTF-8').send(HIBERNATING_HTML),
      outage: (reply, until) => send(reply, 503, envelope('Service Unavailable', `The instance is unavailable until ${until}`)),
      rateLimited: (reply, retryAfterSec) => send(reply, 429, envelope('Rate limit exceeded', 'Too many requests'), { 'Retry-After': String(retryAfterSec) }),
      error: (reply, status) => send(reply, status, envelope(statusText(status), 'Injected fault')),
    },
  });

  app.setErrorHandler((err: any, _req, reply) => {
    if (err instanceof SnError) return sendError(reply, err);
    if (err?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, 413, envelope('Request entity too large', err.message));
    if (typeof err?.statusCode === 'number' && err.statusCode < 500) {
      return send(reply, err.statusCode, envelope('Invalid request', String(err.message ?? '')));
    }
    app.log.error(err);
    return send(reply, 500, envelope('Server Error', String(err?.message ?? err)));
  });

  app.setNotFoundHandler((req, reply) => {
    if (pathOf(req).startsWith('/api/')) {
      return send(reply, 400, envelope('Requested URI does not represent any resource', null));
    }
    return reply.code(404).header('Content-Type', 'text/html;charset=UTF-8').send('<html><body><h1>Not Found</h1></body></html>');
  });

  // ---------------------------------------------------------------- authentication

  const ctxFor = (row: Rec): UserCtx => {
    const id = String(row.sys_id);
    const hit = userCache.get(id);
    if (hit && hit.version === store.authVersion) return hit.ctx;
    const ctx = store.userCtx(row);
    userCache.set(id, { ctx, version: store.authVersion });
    return ctx;
  };

  const authenticate = async (req: FastifyRequest): Promise<UserCtx | undefined> => {
    const h = req.headers.authorization;
    if (!h) return undefined;
    if (/^basic /i.test(h)) {
      const cached = basicCache.get(h);
      if (cached && cached.version === store.authVersion) {
        const row = store.userById(cached.sysId);
        return row ? ctxFor(row) : undefined;
      }
      const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      const row = store.findUser(decoded.slice(0, colon));
      if (!row || Number(row.active ?? 1) !== 1 || Number(row.locked_out ?? 0) === 1) return undefined;
      if (!(await verifyPassword(decoded.slice(colon + 1), row.user_password))) return undefined;
      if (basicCache.size > 1000) basicCache.clear();
      basicCache.set(h, { sysId: String(row.sys_id), version: store.authVersion });
      return ctxFor(row);
    }
    if (/^bearer /i.test(h)) {
      const row = oauth.userForAccessToken(h.slice(7).trim(), Date.now());
      return row ? ctxFor(row) : undefined;
    }
    return undefined;
  };

  /** Authenticates and applies inbound rate-limit rules; throws SnError; returns the user and headers to add. */
  const guard = async (req: FastifyRequest): Promise<{ user: UserCtx; headers: Record<string, string> }> => {
    const user = await authenticate(req);
    if (!user) throw UNAUTHENTICATED();
    const path = pathOf(req);
    const d = limiter.check(user, req.method, path, Date.now(), store.rules.rateLimitRemainingHeader);
    if (!d) return { user, headers: {} };
    if (d.exceeded) {
      const api = path.includes('/table/') ? 'Table API' : path.includes('/em/') ? 'Event Management API' : 'REST API';
      throw new SnError(429, 'Rate limit exceeded', `Rate limit of ${d.limit} requests per hour for ${api} exceeded`, {
        ...d.headers,
        'Retry-After': String(d.retryAfterSec),
      });
    }
    return { user, headers: d.headers };
  };

  // ---------------------------------------------------------------- OAuth

  const parseForm = (req: FastifyRequest): URLSearchParams | undefined => {
    const ct = String(req.headers['content-type'] ?? '').toLowerCase();
    if (!ct.startsWith('application/x-www-form-urlencoded')) return undefined;
    return new URLSearchParams(typeof req.body === 'string' ? req.body : '');
  };

  app.post('/oauth_token.do', async (req, reply) => {
    const form = parseForm(req);
    const tokenHeaders = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
    if (!form) {
      return send(reply, oauth.settings.errorStatus, JSON.stringify({ error_description: 'access_denied', error: 'server_error' }), tokenHeaders);
    }
    const r = await oauth.grant(form, Date.now(), store.rules.refreshGrantReturnsRefreshToken);
    if (r.grant) stats.grant(r.grant);
    return send(reply, r.status, JSON.stringify(r.body), tokenHeaders);
  });

  app.post('/oauth_revoke_token.do', async (req, reply) => {
    const form = parseForm(req);
    const token = form?.get('token');
    if (!form || !token) {
      return send(reply, oauth.settings.errorStatus, JSON.stringify({ error_description: 'access_denied', error: 'server_error' }));
    }
    const clientId = form.get('client_id');
    if (clientId !== null) {
      const c = store.findClient(clientId);
      if (!c || String(c.client_secret ?? '') !== (form.get('client_secret') ?? '')) {
        return send(reply, oauth.settings.errorStatus, JSON.stringify({ error_description: 'access_denied', error: 'server_error' }));
      }
    }
    oauth.revoke(token);
    return send(reply, 200, null);
  });

  // ---------------------------------------------------------------- Table API

  const tableMeta = (name: string): TableMeta => {
    const meta = store.table(name);
    if (!meta) {
      throw new SnError(store.rules.invalidTableStatus, `Invalid table ${name}`, `Table ${name} does not exist`);
    }
    return meta;
  };

  const formatter = (req: FastifyRequest, meta: TableMeta, q: Query): RecordFormatter => {
    const fields = q1(q, 'sysparm_fields');
    const display: DisplayMode = parseDisplayMode(q1(q, 'sysparm_display_value'));
    return new RecordFormatter(store, meta, {
      display,
      excludeRefLink: truthy(q1(q, 'sysparm_exclude_reference_link')),
      baseUrl: baseUrl(req),
      fields: fields ? fields.split(',') : null,
    });
  };

  const linkHeader = (req: FastifyRequest, q: Query, offset: number, limit: number, total: number | undefined, pageRows: number): string | undefined => {
    const quirk = store.rules.linkPrevQuirk;
    const url = (off: number): string => {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) {
        if (k === 'sysparm_offset' || v === undefined) continue;
        for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
      }
      if (!p.has('sysparm_limit')) p.set('sysparm_limit', String(limit));
      p.set('sysparm_offset', String(off));
      return `<${baseUrl(req)}${pathOf(req)}?${p.toString()}>`;
    };
    const parts: string[] = [];
    if (total !== undefined && !quirk && offset === 0 && total <= limit) return undefined;
    parts.push(`${url(0)};rel="first"`);
    if (offset > 0 || quirk) parts.push(`${url(quirk ? offset - limit : Math.max(0, offset - limit))};rel="prev"`);
    const hasNext = total !== undefined ? offset + limit < total : pageRows >= limit;
    if (hasNext) parts.push(`${url(offset + limit)};rel="next"`);
    if (total !== undefined) parts.push(`${url(total > 0 ? Math.floor((total - 1) / limit) * limit : 0)};rel="last"`);
    return parts.join(',');
  };

  const denied = (op: 'read' | 'create' | 'write' | 'delete'): SnError => {
    if (op === 'read') return new SnError(403, 'Insufficient rights to query records', null);
    const verb = op === 'create' ? 'Insert' : op === 'write' ? 'Update' : 'Delete';
    return new SnError(403, 'Operation Failed', `ACL Exception ${verb} Failed due to security constraints`);
  };
  const notFound = (): SnError => new SnError(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");

  const handleTable = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { user, headers } = await guard(req);
    const params = req.params as { table: string; sys_id?: string };
    const q = req.query as Query;
    const meta = tableMeta(params.table);
    const nowMs = Date.now();
    const method = req.method;
    const sysId = params.sys_id;
    if (method === 'GET' && !sysId) {
      if (!hasRole(user, meta.def.acl.read)) throw denied('read');
      const rules = store.rules;
      let limit = Number.parseInt(q1(q, 'sysparm_limit') ?? '', 10);
      if (!Number.isFinite(limit) || limit <= 0) limit = rules.defaultLimit;
      limit = Math.min(limit, rules.maxLimit);
      let offset = Number.parseInt(q1(q, 'sysparm_offset') ?? '', 10);
      if (!Number.isFinite(offset) || offset < 0) offset = 0;
      const compiled = compileQuery(meta, parseEncodedQuery(q1(q, 'sysparm_query')), {
        metas: store.metas,
        userSysId: user.sysId,
        userName: user.userName,
        nowMs,
        invalidQueryReturnsNoRows: rules.invalidQueryReturnsNoRows,
      });
      const fmt = formatter(req, meta, q);
      const noCount = truthy(q1(q, 'sysparm_no_count'));
      const total = noCount && rules.noCountOmitsTotalHeader ? undefined : store.count(meta, compiled);
      const cols = [...fmt.columns, ...compiled.orderColumns.filter((c) => !fmt.columns.includes(c))];
      const rows = store.list(meta, compiled, cols, limit, offset);
      if (total !== undefined && offset === 0 && rows.length > 0 && compiled.keyset) {
        const last = rows[rows.length - 1];
        store.recordPage(
          meta,
          compiled,
          total,
          rows.length,
          compiled.orderColumns.map((c) => last[cols.indexOf(c)]),
        );
      }
      if (rows.length === 0 && rules.emptyListIs404) throw notFound();
      const out: Record<string, string> = { ...headers };
      if (total !== undefined) out['X-Total-Count'] = String(total);
      if (!truthy(q1(q, 'sysparm_suppress_pagination_header'))) {
        const link = linkHeader(req, q, offset, limit, total, rows.length);
        if (link) out.Link = link;
      }
      return send(reply, 200, '{"result":' + fmt.json(rows) + '}', out);
    }
    if (method === 'GET') {
      if (!hasRole(user, meta.def.acl.read)) throw notFound();
      const rec = store.get(meta, sysId!);
      if (!rec) throw notFound();
      return send(reply, 200, JSON.stringify({ result: formatter(req, meta, q).formatRecord(rec) }), headers);
    }
    const inputDisplay = truthy(q1(q, 'sysparm_input_display_value'));
    if (method === 'POST' && !sysId) {
      if (!hasRole(user, meta.def.acl.create)) throw denied('create');
      const body = parseJsonBody(req.body);
      const id = store.insert(meta, body, { user, nowMs, inputDisplay });
      const rec = store.get(meta, id)!;
      return send(reply, 201, JSON.stringify({ result: formatter(req, meta, q).formatRecord(rec) }), {
        ...headers,
        Location: `${baseUrl(req)}/api/now/v2/table/${meta.name}/${id}`,
      });
    }
    if ((method === 'PUT' || method === 'PATCH') && sysId) {
      if (!store.get(meta, sysId)) throw notFound();
      if (!hasRole(user, meta.def.acl.write)) throw denied('write');
      const body = parseJsonBody(req.body);
      store.update(meta, sysId, body, { user, nowMs, inputDisplay });
      const rec = store.get(meta, sysId)!;
      return send(reply, 200, JSON.stringify({ result: formatter(req, meta, q).formatRecord(rec) }), headers);
    }
    if (method === 'DELETE' && sysId) {
      if (!store.get(meta, sysId)) throw notFound();
      if (!hasRole(user, meta.def.acl.delete)) throw denied('delete');
      store.delete(meta, sysId);
      return send(reply, 204, null, headers);
    }
    throw new SnError(405, 'Method not Supported', `${method} is not supported for this resource`);
  };

  for (const prefix of TABLE_PREFIXES) {
    app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: `${prefix}/:table`, handler: handleTable });
    app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: `${prefix}/:table/:sys_id`, handler: handleTable });
  }

  // ---------------------------------------------------------------- Event Management

  const handleJsonV2 = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { user, headers } = await guard(req);
    if (!hasRole(user, ['evt_mgmt_integration'])) throw denied('create');
    let body: unknown;
    try {
      body = typeof req.body === 'string' && req.body !== '' ? JSON.parse(req.body) : req.body;
    } catch {
      throw new SnError(400, 'Exception while reading request', 'The payload is not valid JSON.');
    }
    const records = (body as { records?: unknown } | null)?.records;
    if (!Array.isArray(records)) {
      throw new SnError(400, 'Exception while reading request', 'The payload must be {"records":[…]}.');
    }
    const nowMs = Date.now();
    const ids: string[] = [];
    for (const r of records) {
      if (r && typeof r === 'object' && !Array.isArray(r)) ids.push(insertEvent(store, r as Rec, { user, nowMs, inputDisplay: false }));
    }
    const process = (): void => {
      for (const id of ids) processEvent(store, id, Date.now());
    };
    const delay = store.rules.eventProcessingDelayMs;
    if (delay > 0) {
      const t = setTimeout(() => {
        held.release(t);
        try {
          process();
        } catch (e) {
          app.log.error(e);
        }
      }, delay);
      held.hold(t, () => undefined);
    } else process();
    return send(reply, 200, JSON.stringify({ result: { 'Default Bulk Endpoint': `${ids.length} events were inserted` } }), headers);
  };
  app.post('/api/global/em/jsonv2', handleJsonV2);
  app.post('/api/mid/em/jsonv2', handleJsonV2);

  // ---------------------------------------------------------------- admin API

  const adminJson = (reply: FastifyReply, status: number, body: unknown): FastifyReply =>
    reply.code(status).header('Content-Type', 'application/json;charset=UTF-8').send(JSON.stringify(body));

  const admin =
    (handler: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const user = await authenticate(req);
      if (!user) throw UNAUTHENTICATED();
      if (!user.roles.has('admin')) throw new SnError(403, 'Insufficient rights', 'The sandbox admin API needs the admin role');
      return handler(req, reply);
    };
  const adminBody = (req: FastifyRequest): unknown => {
    try {
      return typeof req.body === 'string' && req.body !== '' ? JSON.parse(req.body) : {};
    } catch {
      throw new SnError(400, 'Exception while reading request', 'The payload is not valid JSON.');
    }
  };
  const rejectKeys = (what: string, bad: string[]): void => {
    if (bad.length) throw new SnError(400, `Invalid ${what}`, `Rejected keys: ${bad.join(', ')}`);
  };

  registerFaultAdmin(app, {
    prefix: ADMIN_PREFIX,
    faults,
    limiter,
    stats,
    admin,
    json: adminJson,
    body: adminBody,
    refuse: (what, detail) => {
      throw new SnError(400, what, detail);
    },
  });
  app.get(
    '/api/x_sandbox/oauth',
    admin((_req, reply) => adminJson(reply, 200, oauth.settings)),
  );
  app.put(
    '/api/x_sandbox/oauth',
    admin((req, reply) => {
      const next = { ...oauth.settings };
      rejectKeys('OAuth settings', mergeKnown(next, adminBody(req)));
      oauth.settings = next;
      return adminJson(reply, 200, oauth.settings);
    }),
  );
  app.post(
    '/api/x_sandbox/oauth/expire_access_tokens',
    admin((_req, reply) => adminJson(reply, 200, { expired: oauth.expireAccessTokens(Date.now()) })),
  );
  app.post(
    '/api/x_sandbox/oauth/revoke_all',
    admin((_req, reply) => adminJson(reply, 200, { revoked: oauth.revokeAll() })),
  );
  app.get(
    '/api/x_sandbox/rules',
    admin((_req, reply) => adminJson(reply, 200, store.rules)),
  );
  app.put(
    '/api/x_sandbox/rules',
    admin((req, reply) => {
      const next = { ...store.rules };
      rejectKeys('rules', mergeKnown(next, adminBody(req)));
      store.rules = next;
      return adminJson(reply, 200, store.rules);
    }),
  );
  app.post(
    '/api/x_sandbox/rules/reset',
    admin((_req, reply) => {
      store.rules = { ...DEFAULT_RULES };
      oauth.settings = { ...DEFAULT_OAUTH };
      return adminJson(reply, 200, store.rules);
    }),
  );

  return { app, abortHeld: () => held.abortHeld() };
}

function statusText(status: number): string {
  const m: Record<number, string> = {
    400: 'Bad Request',
    401: 'User Not Authenticated',
    403: 'Forbidden',
    404: 'Not Found',
    408: 'Request Timeout',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return m[status] ?? `HTTP ${status}`;
}
