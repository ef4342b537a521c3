/**
 * The Cherwell sandbox HTTP surface (Fastify) under `/CherwellAPI`: the token endpoint, logout, service
 * info, business object summary/schema/template, save/read/delete (single and batch), ad-hoc search, and
 * the sandbox admin API (`/CherwellAPI/api/x_sandbox/*`, Basic auth of an administrator).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Faults, RateLimiter, Stats } from '../common/faults.ts';
import { installFaultHook, pathOf, registerFaultAdmin, sandboxFastify } from '../common/server.ts';
import { verifyPassword } from '../common/passwords.ts';
import { AuthService, type Session } from './auth.ts';
import type { CherwellRules } from './config.ts';
import { DEFAULT_RULES, mergeRules } from './config.ts';
import type { SaveRequestBody } from './records.ts';
import { recordItems, save, templateFields, type FieldTemplateItem } from './records.ts';
import type { BusObDef, FieldDef } from './schema.ts';
import { BUSINESS_OBJECTS, busObById, busObByName, qualifiedFieldId, resolveField } from './schema.ts';
import { compileSearch, SearchError } from './search.ts';
import type { CwStore, StoredRecord } from './store.ts';

export const PREFIX = '/CherwellAPI';
export const ADMIN = `${PREFIX}/api/x_sandbox`;
const DENIED = JSON.stringify({ Message: 'Authorization has been denied for this request.' });

export const MAINTENANCE_HTML = `<!DOCTYPE html>
<html><head><title>Service Unavailable</title></head>
<body><h1>Cherwell Service Management is down for maintenance</h1><p>Please try again later.</p></body></html>
`;

export interface AppOptions {
  seed: number;
  logger: boolean;
  tls?: { cert: string; key: string };
  rules?: Partial<CherwellRules>;
}

/** An API answer with Cherwell's error members (`errorCode`, `errorMessage`, `hasError`). */
class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly shape: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const noError = { errorCode: null, errorMessage: null, hasError: false };

function readResponse(bo: BusObDef, rec: StoredRecord, timeZone: string, only?: Set<FieldDef>): Record<string, unknown> {
  return {
    busObId: bo.busObId,
    busObPublicId: rec.publicId,
    busObRecId: rec.recId,
    fields: recordItems(bo, rec, timeZone, only),
    links: [],
    ...noError,
  };
}

function summary(bo: BusObDef): Record<string, unknown> {
  const recId = bo.byName.get('recid')!;
  const state = bo.stateField ? bo.byName.get(bo.stateField.toLowerCase()) : undefined;
  return {
    firstRecIdField: recId.id,
    groupSummaries: [],
    recIdFields: recId.id,
    stateFieldId: state?.id ?? '',
    states: bo.states?.join(',') ?? '',
    busObId: bo.busObId,
    displayName: bo.displayName,
    group: false,
    lookup: false,
    major: bo.major,
    name: bo.name,
    supporting: !bo.major,
  };
}

function schema(bo: BusObDef): Record<string, unknown> {
  const s = summary(bo);
  return {
    busObId: bo.busObId,
    fieldDefinitions: bo.fields.map((f) => ({
      autoFill: false,
      calculated: false,
      category: '',
      decimalDigits: 0,
      description: '',
      details: '',
      displayName: f.displayName,
      enabled: true,
      fieldId: qualifiedFieldId(bo, f),
      hasDate: f.type === 'DateTime',
      hasTime: f.type === 'DateTime',
      isFullTextSearchable: f.type === 'Text',
      maximumSize: f.maxLength ? String(f.maxLength) : '',
      name: f.name,
      readOnly: !!f.readOnly,
      required: !!f.required,
      type: f.type,
      typeLocalized: f.type,
      validated: !!f.choices,
      wholeDigits: 0,
    })),
    firstRecIdField: s.firstRecIdField,
    gridDefinitions: [],
    name: bo.name,
    recIdFields: s.recIdFields,
    relationships: [],
    stateFieldId: s.stateFieldId,
    states: s.states,
    ...noError,
  };
}

export function buildApp(store: CwStore, opts: AppOptions): { app: FastifyInstance; abortHeld(): void; auth: AuthService } {
  const app = sandboxFastify({ logger: opts.logger, tls: opts.tls });
  let rules: CherwellRules = { ...DEFAULT_RULES, ...opts.rules };
  const auth = new AuthService(store, () => rules);
  const faults = new Faults(opts.seed, (path) => path.startsWith(PREFIX + '/'), ADMIN);
  const stats = new Stats(routeKey);
  const adminCache = new Set<string>();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const json = (reply: FastifyReply, status: number, body: unknown): FastifyReply =>
    reply
      .code(status)
      .header('Content-Type', 'application/json; charset=utf-8')
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  const held = installFaultHook(app, {
    faults,
    stats,
    adminPrefix: ADMIN,
    answers: {
      htmlPage: (reply) => reply.code(200).header('Content-Type', 'text/html; charset=utf-8').send(MAINTENANCE_HTML),
      outage: (reply) => reply.code(503).header('Content-Type', 'text/html; charset=utf-8').send(MAINTENANCE_HTML),
      rateLimited: (reply, retryAfterSec) => json(reply.header('Retry-After', String(retryAfterSec)), 429, { Message: 'Too many requests.' }),
      error: (reply, status) => json(reply, status, { Message: 'An error has occurred.' }),
    },
  });

  app.setErrorHandler((err: any, _req, reply) => {
    if (err instanceof ApiFailure) return json(reply, err.status, { ...err.shape, errorCode: err.errorCode, errorMessage: err.message, hasError: true });
    if (typeof err?.statusCode === 'number' && err.statusCode < 500)
      return json(reply, err.statusCode, { Message: String(err.message ?? 'The request is invalid.') });
    app.log.error(err);
    return json(reply, 500, { Message: 'An error has occurred.', ExceptionMessage: String(err?.message ?? err) });
  });

  app.setNotFoundHandler((req, reply) => {
    if (pathOf(req).startsWith(PREFIX + '/api/')) return json(reply, 404, { Message: `No HTTP resource was found that matches the request URI '${req.url}'.` });
    return reply.code(404).header('Content-Type', 'text/html; charset=utf-8').send('<html><body><h1>404 - File or directory not found.</h1></body></html>');
  });

  // ------------------------------------------------------------------ authentication

  const session = (req: FastifyRequest): Session => {
    const h = req.headers.authorization ?? '';
    const s = /^bearer /i.test(h) ? auth.session(h.slice(7).trim(), Date.now()) : undefined;
    if (!s) throw Object.assign(new Error('denied'), { denied: true });
    return s;
  };

  const authed =
    (handler: (req: FastifyRequest, reply: FastifyReply, s: Session) => FastifyReply | Promise<FastifyReply>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      let s: Session;
      try {
        s = session(req);
      } catch {
        return json(reply, 401, DENIED);
      }
      return handler(req, reply, s);
    };

  const body = (req: FastifyRequest, shape: Record<string, unknown> = {}): Record<string, unknown> => {
    let parsed: unknown;
    try {
      parsed = typeof req.body === 'string' && req.body.trim() !== '' ? JSON.parse(req.body) : {};
    } catch {
      throw new ApiFailure(400, 'BADREQUEST', 'The request body is not valid JSON', shape);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ApiFailure(400, 'BADREQUEST', 'The request body must be a JSON object', shape);
    return parsed as Record<string, unknown>;
  };

  const busOb = (id: unknown, shape: Record<string, unknown> = {}): BusObDef => {
    const bo = typeof id === 'string' ? busObById(id) : undefined;
    if (!bo) throw new ApiFailure(400, 'BUSOBNOTFOUND', `Business object '${String(id ?? '')}' does not exist`, shape);
    return bo;
  };

  // ------------------------------------------------------------------ token, logout, service info

  app.post(`${PREFIX}/token`, async (req, reply) => {
    const ct = String(req.headers['content-type'] ?? '').toLowerCase();
    if (!ct.startsWith('application/x-www-form-urlencoded')) {
      return json(reply, rules.tokenErrorStatus, { error: 'invalid_request', error_description: 'The request must be application/x-www-form-urlencoded' });
    }
    const q = req.query as Record<string, string | undefined>;
    const mode = q.auth_mode ?? 'Internal';
    if (!['internal', 'windows', 'ldap', 'saml', 'auto'].includes(mode.toLowerCase())) {
      return json(reply, rules.tokenErrorStatus, { error: 'invalid_request', error_description: `Unknown auth_mode '${mode}'` });
    }
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    const r = await auth.grant(form, q.api_key ?? null, Date.now());
    reply.header('Cache-Control', 'no-cache').header('Pragma', 'no-cache');
    return json(reply, r.status, r.body);
  });

  app.delete(
    `${PREFIX}/api/V1/logout`,
    authed((_req, reply, s) => {
      auth.logout(s.sessionId);
      return reply.code(204).send();
    }),
  );

  app.get(`${PREFIX}/api/V1/serviceinfo`, async (_req, reply) =>
    json(reply, 200, {
      apiVersion: '10.5.0',
      csmCulture: 'en-US',
      csmVersion: '10.5.0 (sandbox)',
      systemDateTime: new Date().toISOString(),
      timeZone: { Id: rules.timeZone, DisplayName: rules.timeZone, SupportsDaylightSavingTime: true },
    }),
  );

  // ------------------------------------------------------------------ metadata

  app.get(
    `${PREFIX}/api/V1/getbusinessobjectsummary/busobname/:name`,
    authed((req, reply) => {
      const bo = busObByName((req.params as { name: string }).name);
      return json(reply, 200, bo ? [summary(bo)] : []);
    }),
  );
  app.get(
    `${PREFIX}/api/V1/getbusinessobjectsummary/busobid/:id`,
    authed((req, reply) => {
      const bo = busObById((req.params as { id: string }).id);
      return json(reply, 200, bo ? [summary(bo)] : []);
    }),
  );
  app.get(
    `${PREFIX}/api/V1/getbusinessobjectsummaries/type/:type`,
    authed((req, reply) => {
      const t = (req.params as { type: string }).type.toLowerCase();
      const pick = BUSINESS_OBJECTS.filter((b) => t === 'all' || (t === 'major' && b.major) || (t === 'supporting' && !b.major));
      return json(reply, 200, pick.map(summary));
    }),
  );
  app.get(
    `${PREFIX}/api/V1/getbusinessobjectschema/busobid/:id`,
    authed((req, reply) => json(reply, 200, schema(busOb((req.params as { id: string }).id)))),
  );

  app.post(
    `${PREFIX}/api/V1/getbusinessobjecttemplate`,
    authed((req, reply) => {
      const shape = { fields: [] };
      const b = body(req, shape);
      const bo = busOb(b.busObId, shape);
      return json(reply, 200, { fields: templateFields(bo, b), ...noError });
    }),
  );

  // ------------------------------------------------------------------ save / read / delete

  const SAVE_SHAPE = { busObPublicId: null, busObRecId: null, cacheKey: null, fieldValidationErrors: [], notificationTriggers: [] };

  const saveOne = (b: Record<string, unknown>, s: Session): { status: number; body: Record<string, unknown> } => {
    const bo = busOb(b.busObId, SAVE_SHAPE);
    const out = save(store, bo, b as SaveRequestBody, { login: s.login, nowMs: Date.now(), timeZone: rules.timeZone });
    if (!out.ok) {
      return {
        status: out.notFound ? rules.recordNotFoundStatus : rules.validationErrorStatus,
        body: { ...SAVE_SHAPE, fieldValidationErrors: out.fieldValidationErrors, errorCode: out.errorCode, errorMessage: out.errorMessage, hasError: true },
      };
    }
    return {
      status: 200,
      body: {
        ...SAVE_SHAPE,
        busObPublicId: out.record?.publicId ?? null,
        busObRecId: out.record?.recId ?? null,
        cacheKey: out.record ? null : `sandbox-${Date.now()}`,
        ...noError,
      },
    };
  };

  app.post(
    `${PREFIX}/api/V1/savebusinessobject`,
    authed((req, reply, s) => {
      const r = saveOne(body(req, SAVE_SHAPE), s);
      return json(reply, r.status, r.body);
    }),
  );

  app.post(
    `${PREFIX}/api/V1/savebusinessobjectbatch`,
    authed((req, reply, s) => {
      const b = body(req, { responses: [] });
      const list = Array.isArray(b.saveRequests) ? b.saveRequests : [];
      const responses: Record<string, unknown>[] = [];
      for (const item of list) {
        let r: Record<string, unknown>;
        try {
          r = saveOne(item && typeof item === 'object' ? (item as Record<string, unknown>) : {}, s).body;
        } catch (e) {
          if (!(e instanceof ApiFailure)) throw e;
          r = { ...SAVE_SHAPE, errorCode: e.errorCode, errorMessage: e.message, hasError: true };
        }
        responses.push(r);
        if (r.hasError && b.stopOnError === true) break;
      }
      const failed = responses.some((r) => r.hasError);
      return json(reply, 200, {
        responses,
        errorCode: failed ? 'BATCHERROR' : null,
        errorMessage: failed ? 'One or more saves failed' : null,
        hasError: failed,
      });
    }),
  );

  const READ_SHAPE = { busObId: null, busObPublicId: null, busObRecId: null, fields: [], links: [] };

  const readOne = (busObId: unknown, recId: unknown, publicId: unknown): { status: number; body: Record<string, unknown> } => {
    const bo = busOb(busObId, READ_SHAPE);
    const rec =
      typeof recId === 'string' && recId ? store.byRecId(bo, recId) : typeof publicId === 'string' && publicId ? store.byPublicId(bo, publicId) : undefined;
    if (!rec) {
      return {
        status: rules.recordNotFoundStatus,
        body: {
          ...READ_SHAPE,
          busObId: bo.busObId,
          errorCode: 'RECORDNOTFOUND',
          errorMessage: `${bo.name} record ${String(recId || publicId || '')} was not found`,
          hasError: true,
        },
      };
    }
    return { status: 200, body: readResponse(bo, rec, rules.timeZone) };
  };

  app.get(
    `${PREFIX}/api/V1/getbusinessobject/busobid/:busobid/busobrecid/:recid`,
    authed((req, reply) => {
      const p = req.params as { busobid: string; recid: string };
      const r = readOne(p.busobid, p.recid, undefined);
      return json(reply, r.status, r.body);
    }),
  );
  app.get(
    `${PREFIX}/api/V1/getbusinessobject/busobid/:busobid/publicid/:publicid`,
    authed((req, reply) => {
      const p = req.params as { busobid: string; publicid: string };
      const r = readOne(p.busobid, undefined, p.publicid);
      return json(reply, r.status, r.body);
    }),
  );
  app.post(
    `${PREFIX}/api/V1/getbusinessobjectbatch`,
    authed((req, reply) => {
      const b = body(req, { responses: [] });
      const responses: Record<string, unknown>[] = [];
      for (const item of Array.isArray(b.readRequests) ? b.readRequests : []) {
        const it = (item ?? {}) as Record<string, unknown>;
        let r: Record<string, unknown>;
        try {
          r = readOne(it.busObId, it.busObRecId, it.busObPublicId).body;
        } catch (e) {
          if (!(e instanceof ApiFailure)) throw e;
          r = { ...READ_SHAPE, errorCode: e.errorCode, errorMessage: e.message, hasError: true };
        }
        responses.push(r);
        if (r.hasError && b.stopOnError === true) break;
      }
      return json(reply, 200, { responses });
    }),
  );

  const deleteOne = (busObId: string, recId?: string, publicId?: string): { status: number; body: Record<string, unknown> } => {
    const bo = busOb(busObId);
    const rec = recId ? store.byRecId(bo, recId) : store.byPublicId(bo, publicId ?? '');
    const base = { busObId: bo.busObId, busObPublicId: rec?.publicId ?? publicId ?? null, busObRecId: rec?.recId ?? recId ?? null };
    if (!rec)
      return {
        status: rules.recordNotFoundStatus,
        body: { ...base, errorCode: 'RECORDNOTFOUND', errorMessage: `${bo.name} record was not found`, hasError: true },
      };
    store.delete(rec.recId);
    return { status: 200, body: { ...base, ...noError } };
  };
  app.delete(
    `${PREFIX}/api/V1/deletebusinessobject/busobid/:busobid/busobrecid/:recid`,
    authed((req, reply) => {
      const p = req.params as { busobid: string; recid: string };
      const r = deleteOne(p.busobid, p.recid);
      return json(reply, r.status, r.body);
    }),
  );
  app.delete(
    `${PREFIX}/api/V1/deletebusinessobject/busobid/:busobid/publicid/:publicid`,
    authed((req, reply) => {
      const p = req.params as { busobid: string; publicid: string };
      const r = deleteOne(p.busobid, undefined, p.publicid);
      return json(reply, r.status, r.body);
    }),
  );

  // ------------------------------------------------------------------ search

  const SEARCH_SHAPE = { businessObjects: [], hasPrompts: false, links: [], prompts: [], searchResultsFields: [], simpleResults: null, totalRows: 0 };

  app.post(
    `${PREFIX}/api/V1/getsearchresults`,
    authed((req, reply) => {
      const b = body(req, SEARCH_SHAPE);
      const bo = busOb(b.busObId, SEARCH_SHAPE);
      let compiled;
      try {
        compiled = compileSearch(bo, b.filters, b.sorting, rules.timeZone);
      } catch (e) {
        if (e instanceof SearchError) throw new ApiFailure(400, e.errorCode, e.message, SEARCH_SHAPE);
        throw e;
      }
      const requested = Number(b.pageSize);
      const pageSize = Math.min(rules.maxPageSize, Number.isInteger(requested) && requested > 0 ? requested : rules.defaultPageSize);
      const pageNumber = Math.max(1, Number.isInteger(Number(b.pageNumber)) ? Number(b.pageNumber) : 1);
      let only: Set<FieldDef> | undefined;
      if (b.includeAllFields !== true && Array.isArray(b.fields) && b.fields.length > 0) {
        only = new Set(b.fields.map((id) => (typeof id === 'string' ? resolveField(bo, id, undefined) : undefined)).filter((f): f is FieldDef => !!f));
      }
      const { total, rows } = store.search(bo, compiled.where, compiled.params, compiled.orderBy, pageSize, (pageNumber - 1) * pageSize);
      const businessObjects = rows.map((r) => readResponse(bo, r, rules.timeZone, only));
      return json(reply, 200, { ...SEARCH_SHAPE, businessObjects, totalRows: total, ...noError });
    }),
  );

  // ------------------------------------------------------------------ admin API

  const admin =
    (handler: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const h = req.headers.authorization ?? '';
      if (!adminCache.has(h)) {
        const decoded = /^basic /i.test(h) ? Buffer.from(h.slice(6).trim(), 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        const row =
          colon > 0
            ? (store.stmt('SELECT * FROM cw_user WHERE login = ? AND admin = 1').get(decoded.slice(0, colon)) as { password_hash: string } | undefined)
            : undefined;
        if (!row || !(await verifyPassword(decoded.slice(colon + 1), row.password_hash))) return json(reply, 401, DENIED);
        adminCache.add(h);
      }
      return handler(req, reply);
    };
  const adminBody = (req: FastifyRequest): unknown => body(req);

  app.get(
    `${ADMIN}/rules`,
    admin((_req, reply) => json(reply, 200, rules)),
  );
  app.put(
    `${ADMIN}/rules`,
    admin((req, reply) => {
      const r = mergeRules(rules, adminBody(req));
      if (r.rejected.length) return json(reply, 400, { Message: `Rejected keys: ${r.rejected.join(', ')}` });
      rules = r.rules;
      return json(reply, 200, rules);
    }),
  );
  registerFaultAdmin(app, {
    prefix: ADMIN,
    faults,
    limiter: new RateLimiter(),
    stats,
    admin,
    json,
    body: adminBody,
    refuse: (what, detail) => {
      throw Object.assign(new Error(`${what}: ${detail}`), { statusCode: 400 });
    },
  });
  app.get(
    `${ADMIN}/licences`,
    admin((_req, reply) => json(reply, 200, { cap: rules.licenceCap, inUse: auth.activeSessions(Date.now()), ...auth.stats })),
  );
  app.post(
    `${ADMIN}/licences/reset`,
    admin((_req, reply) => {
      auth.stats = AuthService.zero();
      return json(reply, 200, { cap: rules.licenceCap, inUse: auth.activeSessions(Date.now()), ...auth.stats });
    }),
  );
  app.post(
    `${ADMIN}/expire_access_tokens`,
    admin((_req, reply) => json(reply, 200, { expired: auth.expireAccessTokens(Date.now()) })),
  );
  app.post(
    `${ADMIN}/end_sessions`,
    admin((_req, reply) => json(reply, 200, { ended: auth.endAllSessions() })),
  );
  app.get(
    `${ADMIN}/clients/:id`,
    admin((req, reply) => {
      const c = auth.clientLifespans((req.params as { id: string }).id);
      return c ? json(reply, 200, c) : json(reply, 404, { Message: 'No such REST API client' });
    }),
  );
  app.put(
    `${ADMIN}/clients/:id`,
    admin((req, reply) => {
      const b = adminBody(req) as { accessMinutes?: unknown; refreshMinutes?: unknown };
      const a = Number(b.accessMinutes);
      const r = Number(b.refreshMinutes);
      if (!(a > 0 && r > 0)) return json(reply, 400, { Message: 'accessMinutes and refreshMinutes must be positive numbers' });
      if (!auth.setClientLifespans((req.params as { id: string }).id, a, r)) return json(reply, 404, { Message: 'No such REST API client' });
      return json(reply, 200, { accessMinutes: a, refreshMinutes: r });
    }),
  );

  return { app, auth, abortHeld: () => held.abortHeld() };
}

/** `/CherwellAPI/api/V1/getbusinessobject/busobid/<id>/busobrecid/<id>` → ids replaced by placeholders. */
export function routeKey(path: string): string {
  return path.replace(/\/[0-9a-f]{32}(?=\/|$)/gi, '/{id}').replace(/\/publicid\/[^/]+/i, '/publicid/{id}');
}

export type { FieldTemplateItem };
