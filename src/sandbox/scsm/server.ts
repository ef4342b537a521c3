/**
 * The SCSM sandbox HTTP surface (Fastify): Microsoft's "Service Manager Web app" routes (partner-apis.md
 * §3.1 and §6.3), the Azure AD–style token service of the sandbox tenant, and the sandbox admin API
 * (`/api/x_sandbox/*`, Basic admin/admin).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { installFaultHook, pathOf, registerFaultAdmin, sandboxFastify } from '../common/server.ts';
import { mergeKnown } from '../common/merge-known.ts';
import type { Claims } from './aad.ts';
import { AadService, knownTenant } from './aad.ts';
import { compileCriteria, CriteriaError } from './criteria.ts';
import { ADMIN_PREFIX, RateLimiter, routeKey, ScsmFaults, Stats } from './faults.ts';
import { base, domainError, exceptionBody, modelError, WebAppError } from './format.ts';
import type { ClassDef } from './model.ts';
import { CHANGE_CLASS, classDef, ENUMS, guidFrom, INCIDENT_CLASS } from './model.ts';
import type { WebAppSettings } from './settings.ts';
import { DEFAULT_SETTINGS, SEEDED_CREDENTIALS } from './settings.ts';
import type { ScsmStore } from './store.ts';
import { createComputer, createWorkItem, isGuid, lookupValues, render, updateWorkItem } from './workitems.ts';

export interface AppOptions {
  seed: number;
  logger: boolean;
  tls?: { cert: string; key: string };
}

export interface SandboxApp {
  app: FastifyInstance;
  abortHeld(): void;
}

export const API_VERSION = '1.0';
const JSON_TYPE = 'application/json; charset=utf-8';
const SDK_DOWN = {
  type: 'Microsoft.EnterpriseManagement.Common.ServiceNotRunningException',
  message: 'The Data Access service is either not running or not yet initialized. Check the event log for more information.',
};
const STOPPED_HTML = `<!DOCTYPE html><html><head><title>Web App - Unavailable</title></head>
<body><h1>Error 403 - This web app is stopped.</h1><p>The web app you have attempted to reach is currently stopped and does not accept any requests.</p></body></html>`;
const UNAVAILABLE_HTML = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD><BODY><h2>Service Unavailable</h2><hr><p>HTTP Error 503. The service is unavailable.</p></BODY></HTML>`;

type Query = Record<string, string | undefined>;

interface PageCacheEntry {
  className: string;
  ids: string[];
  showFields?: string[];
  expiresAt: number;
}

function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

function statusText(status: number): string {
  const m: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };
  return m[status] ?? `HTTP ${status}`;
}

export function buildApp(store: ScsmStore, opts: AppOptions): SandboxApp {
  const app: FastifyInstance = sandboxFastify({ logger: opts.logger, tls: opts.tls, bodyLimit: 4 * 1024 * 1024 });
  let settings: WebAppSettings = { ...DEFAULT_SETTINGS };
  const aad = new AadService(store, () => settings);
  const faults = new ScsmFaults(opts.seed);
  const limiter = new RateLimiter();
  const stats = new Stats(routeKey);
  const pageCache = new Map<string, PageCacheEntry>();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const send = (reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}): FastifyReply => {
    reply.code(status).header('SMOC-Api-Version', API_VERSION).header('Content-Type', JSON_TYPE);
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return reply.send(JSON.stringify(body));
  };
  const started = (req: FastifyRequest): number => (req as unknown as { startedMs: number }).startedMs ?? Date.now();

  // ---------------------------------------------------------------- faults and stats (before anything else)

  app.addHook('onRequest', async (req) => {
    (req as unknown as { startedMs: number }).startedMs = Date.now();
  });
  const held = installFaultHook(app, {
    faults,
    stats,
    adminPrefix: ADMIN_PREFIX,
    answers: {
      // A stopped App Service answers every request with its "web app is stopped" page (403).
      htmlPage: (reply) => reply.code(403).header('Content-Type', 'text/html').send(STOPPED_HTML),
      outage: (reply) => reply.code(503).header('Content-Type', 'text/html').send(UNAVAILABLE_HTML),
      rateLimited: (reply, retryAfterSec) => send(reply, 429, { Message: 'Too many requests' }, { 'Retry-After': String(retryAfterSec) }),
      error: (reply, status) => send(reply, status, exceptionBody(`Injected fault: ${statusText(status)}`, 'System.Exception')),
    },
  });

  app.setErrorHandler((err: any, req, reply) => {
    if (err instanceof WebAppError) return send(reply, err.status, err.body(started(req)), err.extra.headers);
    if (err instanceof CriteriaError) return send(reply, 400, base(started(req), [err.message]));
    if (err?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, 413, { Message: 'The request entity is too large.' });
    }
    if (typeof err?.statusCode === 'number' && err.statusCode < 500) return send(reply, err.statusCode, { Message: String(err.message ?? '') });
    app.log.error(err);
    return send(reply, 500, exceptionBody(String(err?.message ?? err), 'System.Exception'));
  });

  app.setNotFoundHandler((req, reply) => send(reply, 404, { Message: `No HTTP resource was found that matches the request URI '${baseUrl(req)}${req.url}'.` }));

  // ---------------------------------------------------------------- request helpers

  const jsonBody = (req: FastifyRequest, param: string): Record<string, unknown> => {
    const ct = String(req.headers['content-type'] ?? '').toLowerCase();
    const raw = typeof req.body === 'string' ? req.body : '';
    if (raw.trim() === '') throw modelError(param, { '': `The ${param} field is required.` });
    if (ct && !ct.startsWith('application/json') && !ct.startsWith('text/json')) {
      throw new WebAppError(
        415,
        `No MediaTypeFormatter is available to read an object of this type from content with media type '${ct.split(';')[0]}'.`,
        'exception',
        {
          exceptionType: 'System.Net.Http.UnsupportedMediaTypeException',
        },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      throw new WebAppError(400, 'The request is invalid.', 'model', {
        modelState: { [param]: [`Unexpected character encountered while parsing value: ${(e as Error).message}`] },
      });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new WebAppError(400, 'The request is invalid.', 'model', { modelState: { [param]: ['The request body must be a JSON object.'] } });
    }
    return parsed as Record<string, unknown>;
  };

  /** `[Required]` members: a 400 ModelState naming every missing one. */
  const requireMembers = (body: Record<string, unknown>, param: string, names: string[]): void => {
    const missing: Record<string, string> = {};
    for (const n of names) {
      const v = body[n];
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) missing[n] = `The ${n} field is required.`;
    }
    if (Object.keys(missing).length) throw modelError(param, missing);
  };

  const classNamed = (name: unknown): ClassDef => {
    const cls = typeof name === 'string' ? classDef(name.trim()) : undefined;
    if (!cls) throw domainError(`Classname ${String(name)} not found in the system`);
    return cls;
  };

  const workItemClass = (name: unknown): ClassDef => {
    const raw = typeof name === 'string' ? name.trim() : '';
    const alias: Record<string, string> = { incident: INCIDENT_CLASS, changerequest: CHANGE_CLASS };
    return classNamed(alias[raw.toLowerCase()] ?? raw);
  };

  const guidParam = (v: unknown): string => {
    if (typeof v !== 'string' || !isGuid(v)) throw domainError('busObjId is invalid Guid');
    return v.toLowerCase();
  };

  const showFieldsOf = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

  // ---------------------------------------------------------------- authentication

  const challenge = (req: FastifyRequest): Record<string, string> => {
    const audience = settings.audience || baseUrl(req);
    return { 'WWW-Authenticate': `Bearer authorization_uri="${baseUrl(req)}/${SEEDED_CREDENTIALS.tenant}/oauth2/authorize", resource_id="${audience}"` };
  };

  const denied = (req: FastifyRequest, message = 'Authorization has been denied for this request.'): WebAppError =>
    new WebAppError(401, message, 'auth', { headers: challenge(req) });

  /** Bearer validation (signature, lifetime, audience) then the ClientIdValidationFilter. */
  const guard = (req: FastifyRequest): Claims => {
    const h = req.headers.authorization;
    if (!h || !/^bearer /i.test(h)) throw denied(req);
    const result = aad.verify(h.slice(7).trim(), Date.now());
    if ('reason' in result) throw denied(req);
    const { claims } = result;
    if (!aad.isWebApp(claims.aud, baseUrl(req))) throw denied(req);
    const caller = claims.ver === '2.0' ? claims.azp : claims.appid;
    if (caller !== settings.whitelistedClientId) throw denied(req, 'Unauthorized request, client application ID is not whitelisted');
    // Inbound rate-limit rules of the admin API, counted per calling application.
    const limit = limiter.check({ sysId: caller, userName: caller, roles: new Set() }, req.method, pathOf(req), Date.now(), false);
    if (limit?.exceeded) {
      throw new WebAppError(429, 'Too many requests', 'auth', { headers: { ...limit.headers, 'Retry-After': String(limit.retryAfterSec) } });
    }
    return claims;
  };

  /** Routes that go through the SM SDK over the hybrid connection. */
  const sdk = (req: FastifyRequest): void => {
    guard(req);
    if (!faults.relayConnected) throw new WebAppError(500, SDK_DOWN.message, 'exception', { exceptionType: SDK_DOWN.type });
  };

  // ---------------------------------------------------------------- token service

  const tenantOf = (req: FastifyRequest): string => {
    const tenant = (req.params as { tenant: string }).tenant;
    if (!knownTenant(tenant)) {
      throw new WebAppError(400, `Tenant '${tenant}' not found.`, 'auth');
    }
    return tenant;
  };

  const tokenRoute = (version: 1 | 2) => async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = (req.params as { tenant: string }).tenant;
    const nowMs = Date.now();
    if (!knownTenant(tenant)) {
      return send(reply, 400, {
        error: 'invalid_request',
        error_description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        error_codes: [90002],
      });
    }
    const ct = String(req.headers['content-type'] ?? '').toLowerCase();
    if (!ct.startsWith('application/x-www-form-urlencoded')) {
      return send(reply, 400, {
        error: 'invalid_request',
        error_description: "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
        error_codes: [900144],
      });
    }
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    const r = aad.token(form, req.headers.authorization, version, baseUrl(req), nowMs);
    if (r.status === 200) stats.grant('client_credentials');
    return send(reply, r.status, r.body, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' });
  };
  app.post('/:tenant/oauth2/token', tokenRoute(1));
  app.post('/:tenant/oauth2/v2.0/token', tokenRoute(2));
  app.get('/:tenant/.well-known/openid-configuration', async (req, reply) => send(reply, 200, aad.openIdConfiguration(baseUrl(req), tenantOf(req), 1)));
  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (req, reply) => send(reply, 200, aad.openIdConfiguration(baseUrl(req), tenantOf(req), 2)));
  app.get('/:tenant/discovery/keys', async (req, reply) => (tenantOf(req), send(reply, 200, aad.jwks())));
  app.get('/:tenant/discovery/v2.0/keys', async (req, reply) => (tenantOf(req), send(reply, 200, aad.jwks())));

  // ---------------------------------------------------------------- status, token, configtest

  app.get('/api/status', async (req, reply) => {
    guard(req);
    const connected = faults.relayConnected;
    return send(reply, 200, {
      Status: connected,
      SM: {
        Connected: connected,
        Message: connected ? `Connected to Service Manager server ${settings.serverName}` : SDK_DOWN.message,
      },
      AD: { Connected: true, Message: 'Azure Active Directory settings are valid' },
      ...base(started(req)),
    });
  });

  app.get('/api/token', async (req, reply) => send(reply, 200, { result: [{ message: 'TOKEN GENERATED SUCCESSFULLY', status: true }], ...base(started(req)) }));

  app.post('/api/configtest', async (req, reply) => {
    const body = jsonBody(req, 'request');
    requireMembers(body, 'request', ['clientId', 'clientSecret', 'hostURL']);
    const result: { message: string; status: boolean }[] = [];
    const fail = (message: string, reason: string) => {
      result.push({ message, status: false });
      return send(reply, 200, { result, ErrorLogs: [], reason });
    };
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: String(body.clientId),
      client_secret: String(body.clientSecret),
      resource: baseUrl(req),
    });
    const token = aad.token(form, undefined, 1, baseUrl(req), Date.now());
    if (token.status !== 200) return fail('UNABLE TO GENERATE TOKEN', String(token.body.error_description ?? token.body.error));
    result.push({ message: 'TOKEN GENERATION SUCCESSFULL', status: true });
    if (String(body.hostURL).replace(/\/+$/, '').toLowerCase() !== baseUrl(req).toLowerCase()) {
      return fail('UNABLE TO PING THE HOST URL', `Make sure the host URL is the URL of this web app (${baseUrl(req)})`);
    }
    result.push({ message: 'ABLE TO PING THE HOST URL', status: true });
    if (String(body.clientId) !== settings.whitelistedClientId) {
      return fail('AD AUTHENTICATION FAILED', 'Unauthorized request, client application ID is not whitelisted');
    }
    result.push({ message: 'AD AUTHENTICATION SUCCESSFULL', status: true });
    if (!faults.relayConnected) {
      return fail(
        'CONNECTION TO ONPREM SM SDK SERVICE FAILED',
        "Make sure you have provided correct ida:ServerName and it's same as HOSTNAME in hybrid connection",
      );
    }
    result.push({ message: 'CONNECTION TO ONPREM SM SDK SERVICE SUCCESSFULL', status: true });
    return send(reply, 200, { result, ErrorLogs: [], reason: null });
  });

  // ---------------------------------------------------------------- configuration

  const targetClass = (req: FastifyRequest): ClassDef => {
    const q = req.query as Query;
    if (!q.targetClass) throw modelError('targetClass', { '': 'The targetClass field is required.' });
    return classNamed(q.targetClass);
  };

  const propertyJson = (cls: ClassDef, names?: Set<string>) =>
    cls.properties
      .filter((p) => !names || names.has(p.name))
      .map((p) => ({
        name: p.name,
        displayName: p.displayName,
        className: cls.name,
        type: p.type,
        EnumTypeId: p.enumType ? guidFrom(`enum:${p.enumType}`) : null,
        required: !!p.required,
      }));

  app.get('/api/properties', async (req, reply) => {
    sdk(req);
    return send(reply, 200, { values: propertyJson(targetClass(req)), ...base(started(req)) });
  });

  app.get('/api/lookupvalues', async (req, reply) => {
    sdk(req);
    const name = (req.query as Query).fieldName?.trim();
    if (!name) throw modelError('fieldName', { '': 'The fieldName field is required.' });
    const root = [...ENUMS.keys()].find((k) => k === name || guidFrom(`enum:${k}`) === name.toLowerCase());
    const values = root ? lookupValues(root) : undefined;
    if (!values) throw domainError(`Enumeration ${name} not found in the system`);
    return send(reply, 200, { values, ...base(started(req)) });
  });

  app.get('/api/templates', async (req, reply) => {
    sdk(req);
    const values = store.templates(targetClass(req).name).map((t) => ({ Key: t.id, Value: t.name }));
    return send(reply, 200, { values, ...base(started(req)) });
  });

  app.get('/api/v2/templates', async (req, reply) => {
    sdk(req);
    const cls = targetClass(req);
    const values = store.templates(cls.name).map((t) => {
      const empty = new Set(cls.properties.filter((p) => p.required && !(p.name in t.values)).map((p) => p.name));
      return { Key: t.id, Value: { name: t.name, emptyRequiredProperties: propertyJson(cls, empty) } };
    });
    return send(reply, 200, { values, ...base(started(req)) });
  });

  // ---------------------------------------------------------------- work items

  const pageOf = (req: FastifyRequest, cls: ClassDef, ids: string[], pageNo: number, pageSize: number, key: string | null, showFields?: string[]) => {
    const slice = ids.slice((pageNo - 1) * pageSize, pageNo * pageSize);
    const businessObjects = store.rows(cls, slice).map((row) => render(store, cls, row, { showFields }));
    const more = pageNo * pageSize < ids.length;
    let next: string | null = null;
    if (more) {
      let k = key;
      if (!k) {
        k = randomUUID().replace(/-/g, '');
        pageCache.set(k, { className: cls.name, ids, showFields, expiresAt: Date.now() + settings.cacheTimeoutSec * 1000 });
      }
      next = `/api/workitems/next/${k}/${pageNo + 1}/${pageSize}`;
    }
    return { businessObjects, totalRows: ids.length, totalRowsInResponse: businessObjects.length, next, ...base(started(req)) };
  };

  const clampPageSize = (v: unknown): number => {
    const n = typeof v === 'number' ? v : Number.parseInt(String(v ?? ''), 10);
    if (!Number.isFinite(n) || n <= 0) return settings.defaultPageSize;
    return Math.min(Math.floor(n), settings.maxPageSize);
  };

  app.post('/api/workitems', async (req, reply) => {
    sdk(req);
    const body = jsonBody(req, 'request');
    requireMembers(body, 'request', ['className']);
    const cls = classNamed(body.className);
    const criteria = compileCriteria(cls, typeof body.criteriaXML === 'string' ? body.criteriaXML : undefined);
    const sortOrder = String(body.sortOrder ?? 'asc').toLowerCase();
    if (sortOrder !== 'asc' && sortOrder !== 'desc') throw modelError('request', { sortOrder: "The sortOrder field must be 'asc' or 'desc'." });
    const ids = store.match(cls, criteria, body.sorted === true ? sortOrder : null);
    return send(reply, 200, pageOf(req, cls, ids, 1, clampPageSize(body.pageSize), null, showFieldsOf(body.showFields)));
  });

  app.get('/api/workitems/next/:key/:pageNo/:pageSize', async (req, reply) => {
    sdk(req);
    const p = req.params as { key: string; pageNo: string; pageSize: string };
    const entry = pageCache.get(p.key);
    if (!entry || entry.expiresAt <= Date.now()) {
      pageCache.delete(p.key);
      throw domainError("Cache doesn't contain this token, or has expired");
    }
    const pageNo = Number.parseInt(p.pageNo, 10);
    if (!Number.isInteger(pageNo) || pageNo < 1) throw domainError(`pageNo must be a page number from 1, not '${p.pageNo}'`);
    const cls = classDef(entry.className)!;
    return send(reply, 200, pageOf(req, cls, entry.ids, pageNo, clampPageSize(p.pageSize), p.key, entry.showFields));
  });

  const oneWorkItem = async (req: FastifyRequest, reply: FastifyReply) => {
    sdk(req);
    const bmeId = guidParam((req.params as { bmeId: string }).bmeId);
    const body = req.method === 'POST' && typeof req.body === 'string' && req.body.trim() ? jsonBody(req, 'request') : {};
    const cls = store.classOf(bmeId);
    const row = cls ? store.get(cls, bmeId) : undefined;
    if (!cls || !row) throw domainError(`Object with bmeId ${bmeId} was not found`, 404);
    return send(reply, 200, { ...render(store, cls, row, { showFields: showFieldsOf(body.showFields), actionLog: true }), ...base(started(req)) });
  };
  app.post('/api/workitems/:bmeId', oneWorkItem);
  app.get('/api/workitems/:bmeId', oneWorkItem);

  app.post('/api/workitems/create', async (req, reply) => {
    sdk(req);
    const body = jsonBody(req, 'request');
    requireMembers(body, 'request', ['className']);
    const cls = workItemClass(body.className);
    const { bmeId, warnings } = createWorkItem(store, cls, body.fields, Date.now(), settings);
    return send(reply, 200, { ...render(store, cls, store.get(cls, bmeId)!, { actionLog: true }), ...base(started(req), warnings) });
  });

  app.patch('/api/workitems/:bmeId', async (req, reply) => {
    sdk(req);
    const bmeId = guidParam((req.params as { bmeId: string }).bmeId);
    const body = jsonBody(req, 'request');
    requireMembers(body, 'request', ['className']);
    const cls = workItemClass(body.className);
    if (!store.get(cls, bmeId)) {
      const actual = store.classOf(bmeId);
      throw domainError(actual ? `Object ${bmeId} is a ${actual.name}, not a ${cls.name}` : `Object with bmeId ${bmeId} was not found`, actual ? 400 : 404);
    }
    const { warnings } = updateWorkItem(store, cls, bmeId, body.fields, Date.now(), settings);
    return send(reply, 200, { ...render(store, cls, store.get(cls, bmeId)!, { actionLog: true }), ...base(started(req), warnings) });
  });

  app.post('/api/workitems/attach_ci', async (req, reply) => {
    sdk(req);
    const body = jsonBody(req, 'request');
    requireMembers(body, 'request', ['bmeId', 'affectedci']);
    const bmeId = guidParam(body.bmeId);
    const cls = store.classOf(bmeId);
    if (!cls || !cls.idPrefix) throw domainError(`Object with bmeId ${bmeId} was not found`, 404);
    const names = String(body.affectedci)
      .split(/[,;]/)
      .map((x) => x.trim())
      .filter(Boolean);
    const nowMs = Date.now();
    const cis = names.map((n) => store.computerByPrincipalName(n));
    if (cis.some((c) => !c)) throw domainError("Unable to add affected CI or it doesn't exist in system");
    store.db.transaction(() => {
      for (const ci of cis) store.attach(bmeId, ci!.bme_id as string, nowMs);
      store.update(cls, bmeId, { LastModified: nowMs });
    })();
    return send(reply, 200, { result: true, ...base(started(req)) });
  });

  // ---------------------------------------------------------------- affected CIs

  app.post('/api/affectedci', async (req, reply) => {
    sdk(req);
    const body = jsonBody(req, 'request');
    requireMembers(body, 'request', ['incidentIds', 'WIType']);
    if (!Array.isArray(body.incidentIds)) throw modelError('request', { incidentIds: 'The incidentIds field must be an array.' });
    const cls = workItemClass(body.WIType);
    const values: { Key: string; Value: string }[] = [];
    for (const id of body.incidentIds) {
      const key = String(id);
      const row = isGuid(key)
        ? store.get(cls, key.toLowerCase())
        : (store.stmt(`SELECT * FROM ${cls.table} WHERE "Id" = ?`).get(key) as Record<string, unknown> | undefined);
      if (!row) continue;
      for (const ci of store.affectedComputers(row.bme_id as string)) values.push({ Key: String(row.Id), Value: String(ci.PrincipalName) });
    }
    return send(reply, 200, { values, ...base(started(req)) });
  });

  app.get('/api/affectedci/getci', async (req, reply) => {
    sdk(req);
    const name = (req.query as Query).name?.trim();
    if (!name) throw modelError('name', { '': 'The name field is required.' });
    const ci = store.computerByPrincipalName(name);
    return send(reply, 200, { ciName: ci ? String(ci.PrincipalName) : null, ...base(started(req)) });
  });

  app.post('/api/affectedci/create', async (req, reply) => {
    sdk(req);
    const body = jsonBody(req, 'request');
    requireMembers(body, 'request', ['className']);
    const cls = classNamed(body.className);
    const bmeId = createComputer(store, cls, body.fields, Date.now());
    return send(reply, 200, { ...render(store, cls, store.get(cls, bmeId)!), ...base(started(req)) });
  });

  // ---------------------------------------------------------------- admin API

  const admin =
    (handler: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const expected = 'Basic ' + Buffer.from(`${SEEDED_CREDENTIALS.admin.user}:${SEEDED_CREDENTIALS.admin.password}`).toString('base64');
      if (req.headers.authorization !== expected) throw new WebAppError(401, 'The sandbox admin API needs Basic admin/admin', 'auth');
      return handler(req, reply);
    };
  const adminBody = (req: FastifyRequest): unknown => {
    try {
      return typeof req.body === 'string' && req.body !== '' ? JSON.parse(req.body) : {};
    } catch {
      throw new WebAppError(400, 'The admin request body is not valid JSON', 'auth');
    }
  };
  const rejectKeys = (what: string, bad: string[]): void => {
    if (bad.length) throw new WebAppError(400, `Invalid ${what}: rejected keys ${bad.join(', ')}`, 'auth');
  };

  registerFaultAdmin(app, {
    prefix: ADMIN_PREFIX,
    faults,
    limiter,
    stats,
    admin,
    json: (reply, status, body) => send(reply, status, body),
    body: adminBody,
    refuse: (what, detail) => {
      throw new WebAppError(400, `${what}: ${detail}`, 'auth');
    },
  });
  app.get(
    `${ADMIN_PREFIX}/relay`,
    admin((_req, reply) => send(reply, 200, { connected: faults.relayConnected })),
  );
  app.put(
    `${ADMIN_PREFIX}/relay`,
    admin((req, reply) => {
      const body = adminBody(req) as { connected?: unknown };
      if (typeof body?.connected !== 'boolean') rejectKeys('relay settings', ['connected (must be true or false)']);
      faults.relayConnected = body.connected as boolean;
      return send(reply, 200, { connected: faults.relayConnected });
    }),
  );
  app.post(
    `${ADMIN_PREFIX}/aad/expire_tokens`,
    admin((_req, reply) => send(reply, 200, { expired: aad.expireAll() })),
  );
  app.post(
    `${ADMIN_PREFIX}/cache/expire`,
    admin((_req, reply) => {
      const n = pageCache.size;
      pageCache.clear();
      return send(reply, 200, { expired: n });
    }),
  );
  app.get(
    `${ADMIN_PREFIX}/settings`,
    admin((_req, reply) => send(reply, 200, settings)),
  );
  app.put(
    `${ADMIN_PREFIX}/settings`,
    admin((req, reply) => {
      const next = { ...settings };
      rejectKeys('settings', mergeKnown(next, adminBody(req)));
      settings = next;
      return send(reply, 200, settings);
    }),
  );
  app.post(
    `${ADMIN_PREFIX}/settings/reset`,
    admin((_req, reply) => {
      settings = { ...DEFAULT_SETTINGS };
      return send(reply, 200, settings);
    }),
  );

  return { app, abortHeld: held.abortHeld };
}
